"""Agreement and consensus over 1M judgements, against the `krippendorff` package.

    python benchmarks/agreement_bench.py [--judgements 1000000] [--annotators 60] [--skip-package]

Builds two simulated projects in long format (no database): pairwise (one nominal value
per judgement) and ranking of 4 (four ordinal values per judgement), overlap 3, honest
annotators copying a hidden truth with noise. Times alpha here and in the `krippendorff`
package on the same data (a coders x units matrix, its usual input) and checks they agree
to 1e-9; times the bootstrap interval (1000 resamples), per-annotator and pairwise
agreement, Bradley-Terry for every ranking item and Dawid-Skene for every pairwise item.
Prints a table (wall and CPU seconds: on a shared machine the wall clock also counts other
people's work); writes benchmarks/results/agreement.json.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotate import agreement, consensus  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "agreement.json"
OVERLAP = 3


def simulate(task_mode: str, n_judgements: int, n_annotators: int, seed: int = 0):
    """Judgements x positions scores of a simulated project, with annotator and item ids."""
    rng = np.random.default_rng(seed)
    n_items = n_judgements // OVERLAP
    width = 2 if task_mode == "pairwise" else 4
    truth = rng.permuted(np.tile(np.arange(1, width + 1, dtype=np.float64), (n_items, 1)), axis=1)
    # Each item goes to OVERLAP distinct annotators: a random start and a random stride.
    start = rng.integers(0, n_annotators, size=n_items)
    stride = rng.integers(1, n_annotators // OVERLAP, size=n_items)
    annotators = ((start[:, None] + stride[:, None] * np.arange(OVERLAP)) % n_annotators).ravel()
    items = np.repeat(np.arange(n_items), OVERLAP)
    scores = truth[items]
    noisy = rng.random(len(items)) < 0.3
    scores[noisy] = rng.permuted(scores[noisy], axis=1)
    if task_mode == "pairwise":
        ties = rng.random(len(items)) < 0.1
        scores[ties] = 1.0
    return annotators, items, scores


def measure(row: dict, name: str, function, *args, **kwargs):
    """Run `function`, record its wall and CPU seconds in `row`, return its result.

    Both are kept because a shared machine's wall clock also counts other people's work.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    row[f"{name}_s"] = time.perf_counter() - started
    row[f"{name}_cpu_s"] = time.process_time() - cpu_started
    return result


def coder_matrix(data: agreement.LongFormat) -> np.ndarray:
    """The same values as the coders x units matrix the krippendorff package reads."""
    _, units = np.unique(data.units, return_inverse=True)
    matrix = np.full((int(data.annotators.max()) + 1, int(units.max()) + 1), np.nan)
    matrix[data.annotators, units] = data.values
    return matrix


def bench_project(task_mode: str, n_judgements: int, n_annotators: int, with_package: bool) -> dict:
    annotators, items, scores = simulate(task_mode, n_judgements, n_annotators)
    data = agreement.judgement_values(task_mode, annotators, items, scores)
    level = data.level_of_measurement
    row = {"task_mode": task_mode, "judgements": len(items), "values": len(data.values), "level": level}
    row["alpha"] = measure(row, "alpha", agreement.krippendorff_alpha_long, data.units, data.values, level)
    if with_package:
        import krippendorff

        matrix = coder_matrix(data)
        row["package_alpha"] = float(measure(row, "package", krippendorff.alpha, matrix, level_of_measurement=level))
        row["abs_difference"] = abs(row["alpha"] - row["package_alpha"])
        row["speedup_cpu"] = row["package_cpu_s"] / row["alpha_cpu_s"]
    row["ci_low"], row["ci_high"] = measure(
        row, "bootstrap_1000", agreement.bootstrap_alpha_ci_long, data.units, data.values, level, n_boot=1000
    )
    measure(row, "annotator_agreement", agreement.annotator_agreement, *data)
    measure(row, "pairwise_agreement", agreement.pairwise_agreement, *data)
    if task_mode == "pairwise":
        measure(row, "majority", consensus.pairwise_majority, data.values.astype(np.int64), items)
        fit = measure(row, "dawid_skene", consensus.dawid_skene, items, annotators, data.values)
        row["dawid_skene_iterations"] = fit.iterations
    else:
        responses = items[:, None] * scores.shape[1] + np.arange(scores.shape[1])
        comparisons, weights = measure(row, "comparisons", consensus.ranking_comparisons, scores, responses)
        measure(row, "bradley_terry", consensus.bradley_terry, comparisons, int(responses.max()) + 1, weights=weights, tol=1e-6)
        row["comparisons"] = len(comparisons)
    return row


def print_table(rows: list[dict]) -> None:
    timings = list(dict.fromkeys(key for row in rows for key in row if key.endswith("_s")))
    described = ["judgements", "values", "level", "alpha", "package_alpha", "abs_difference", "speedup_cpu", "ci_low", "ci_high"]
    print(f"{'measure':<30}" + "".join(f"{row['task_mode']:>14}" for row in rows))
    for key in [*described, *timings]:
        cells = [row.get(key, "") for row in rows]
        print(f"{key:<30}" + "".join(f"{cell:>14.6g}" if isinstance(cell, float) else f"{cell!s:>14}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgements", type=int, default=1_000_000)
    parser.add_argument("--annotators", type=int, default=60)
    parser.add_argument("--skip-package", action="store_true", help="do not time the krippendorff package")
    args = parser.parse_args()
    rows = [bench_project(mode, args.judgements, args.annotators, not args.skip_package) for mode in ("pairwise", "ranking")]
    print_table(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"overlap": OVERLAP, "annotators": args.annotators, "projects": rows}, indent=2))
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    for row in rows:
        if "abs_difference" in row and not row["abs_difference"] <= 1e-9:
            sys.exit(f"{row['task_mode']}: alpha differs from the krippendorff package by {row['abs_difference']}")


if __name__ == "__main__":
    main()
