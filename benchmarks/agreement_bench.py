"""Agreement and consensus over 1M judgements, against the `krippendorff` package.

    python benchmarks/agreement_bench.py [--judgements 1000000] [--annotators 60] [--skip-package]

Builds two simulated projects in long format (no database): pairwise (one nominal value
per judgement) and ranking of 4 (four ordinal values per judgement), overlap 3, honest
annotators copying a hidden truth with noise. Times alpha here and in the `krippendorff`
package on the same data (a coders x units matrix, its usual input) and checks they agree
to 1e-9; times the bootstrap interval (1000 resamples), per-annotator and pairwise
agreement, Bradley-Terry for every ranking item and Dawid-Skene for every pairwise item.
Prints a table; writes benchmarks/results/agreement.json.
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


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def package_alpha(data: agreement.LongFormat) -> tuple[float, float]:
    """The krippendorff package on the coders x units matrix of the same values."""
    import krippendorff

    _, units = np.unique(data.units, return_inverse=True)
    matrix = np.full((int(data.annotators.max()) + 1, int(units.max()) + 1), np.nan)
    matrix[data.annotators, units] = data.values
    return timed(krippendorff.alpha, matrix, level_of_measurement=data.level_of_measurement)


def bench_project(task_mode: str, n_judgements: int, n_annotators: int, with_package: bool) -> dict:
    annotators, items, scores = simulate(task_mode, n_judgements, n_annotators)
    data = agreement.judgement_values(task_mode, annotators, items, scores)
    row = {"task_mode": task_mode, "judgements": len(items), "values": len(data.values), "level": data.level_of_measurement}
    row["alpha"], row["alpha_s"] = timed(agreement.krippendorff_alpha_long, data.units, data.values, data.level_of_measurement)
    if with_package:
        package, row["package_s"] = package_alpha(data)
        row["package_alpha"] = float(package)
        row["abs_difference"] = abs(row["alpha"] - row["package_alpha"])
        row["speedup"] = row["package_s"] / row["alpha_s"]
    interval, row["bootstrap_1000_s"] = timed(
        agreement.bootstrap_alpha_ci_long, data.units, data.values, data.level_of_measurement, n_boot=1000
    )
    row["ci_low"], row["ci_high"] = interval
    _, row["annotator_agreement_s"] = timed(agreement.annotator_agreement, *data)
    _, row["pairwise_agreement_s"] = timed(agreement.pairwise_agreement, *data)
    if task_mode == "pairwise":
        _, row["majority_s"] = timed(consensus.pairwise_majority, data.values.astype(np.int64), items)
        fit, row["dawid_skene_s"] = timed(consensus.dawid_skene, items, annotators, data.values)
        row["dawid_skene_iterations"] = fit.iterations
    else:
        responses = items[:, None] * scores.shape[1] + np.arange(scores.shape[1])
        (comparisons, weights), row["comparisons_s"] = timed(consensus.ranking_comparisons, scores, responses)
        n_responses = int(responses.max()) + 1
        _, row["bradley_terry_s"] = timed(consensus.bradley_terry, comparisons, n_responses, weights=weights, tol=1e-6)
        row["comparisons"] = len(comparisons)
    return row


def print_table(rows: list[dict]) -> None:
    columns = [key for key in rows[0] if key.endswith("_s")] + [key for key in rows[-1] if key.endswith("_s") and key not in rows[0]]
    print(f"{'measure':<26}" + "".join(f"{row['task_mode']:>14}" for row in rows))
    for key in ["judgements", "values", "level", "alpha", "package_alpha", "abs_difference", "speedup", "ci_low", "ci_high", *columns]:
        cells = [row.get(key, "") for row in rows]
        print(f"{key:<26}" + "".join(f"{cell:>14.6g}" if isinstance(cell, float) else f"{cell!s:>14}" for cell in cells))


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
