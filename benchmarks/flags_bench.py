"""How long every bias and quality flag takes over a project of a million judgements.

    python benchmarks/flags_bench.py [--judgements 1000000] [--repeats 3] [--database-url postgres://...]

For each database it runs itself in a child process that creates a throwaway test database,
writes a pairwise project (overlap 3, 2 responses per item; 1,000 annotators of whom a few
are position-biased, fast or random), then times loading the judgements into arrays, computing
all flags, and refresh_flags (load + compute + store), best of `repeats` each, and drops the
database. Beside wall time it records CPU time: this process's, and a local PostgreSQL
backend's (SQLite works inside the process). Prints a table; writes benchmarks/results/flags.json.
Target: all flags under 10 s for 1M judgements.
"""
import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from child_process import database_cpu_seconds, measure_each_database, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "flags.json"
ANNOTATORS, OVERLAP, CHUNK = 1000, 3, 20_000


def build_project(judgements: int):
    """The project and its rows, inserted with plain SQL in chunks (model objects would take longer
    than what is measured)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from annotate.models import Assignment, Item, Judgement, Membership, Project, Response

    rng = np.random.default_rng(0)
    project = Project.objects.create(name="Flags bench", slug="flags-bench", allow_ties=False, overlap=OVERLAP)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-{i}", password="!") for i in range(ANNOTATORS)
    )
    Membership.objects.bulk_create(Membership(project=project, user=user) for user in users)
    user_ids = np.array([user.pk for user in users])
    # Every 50th annotator picks the first-shown response, every 50th (offset) rushes, every 50th picks at random.
    kind = np.zeros(ANNOTATORS, dtype=int)
    kind[::50], kind[17::50], kind[33::50] = 1, 2, 3
    now = timezone.now()
    json_value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    insert_judgement = (
        f"INSERT INTO {Judgement._meta.db_table} (assignment_id, project_id, item_id, annotator_id, ranks, shown_order, "
        f"rationale, seconds_spent, created_at, updated_at) VALUES (%s, %s, %s, %s, {json_value}, {json_value}, '', %s, %s, %s)"
    )
    insert_assignment = (
        f"INSERT INTO {Assignment._meta.db_table} (project_id, item_id, annotator_id, state, shown_order, leased_at, "
        f"expires_at, skip_reason, updated_at) VALUES (%s, %s, %s, 'submitted', {json_value}, %s, %s, '', %s)"
    )
    n_items = judgements // OVERLAP
    for start in range(0, n_items, CHUNK // OVERLAP):
        stop = min(n_items, start + CHUNK // OVERLAP)
        with transaction.atomic(), connection.cursor() as cursor:
            items = Item.objects.bulk_create(
                Item(project=project, external_id=f"b-{i}", prompt="Which answer is better?", judgement_count=OVERLAP)
                for i in range(start, stop)
            )
            item_ids = np.repeat([item.pk for item in items], OVERLAP)
            lengths = rng.integers(100, 1500, size=(len(items), 2))
            Response.objects.bulk_create(
                Response(item=item, position=p, text="x" * int(lengths[i, p])) for i, item in enumerate(items) for p in (0, 1)
            )
            annotator = (np.arange(OVERLAP * start, OVERLAP * stop)) % ANNOTATORS
            shown_first = rng.integers(2, size=len(annotator))
            truth = np.repeat(rng.integers(2, size=len(items)), OVERLAP)
            pick = np.where(rng.random(len(annotator)) < 0.85, truth, 1 - truth)
            pick = np.where((kind[annotator] == 1) & (rng.random(len(annotator)) < 0.8), shown_first, pick)
            pick = np.where(kind[annotator] == 3, rng.integers(2, size=len(annotator)), pick)
            reading = np.repeat(lengths.sum(axis=1), OVERLAP) / 50
            seconds = reading * np.where(kind[annotator] == 2, 0.3, rng.lognormal(1, 0.4, size=len(annotator)))
            shown = ["[0, 1]" if first == 0 else "[1, 0]" for first in shown_first]
            cursor.executemany(
                insert_assignment,
                [(project.pk, int(i), int(user_ids[a]), s, now, now, now) for i, a, s in zip(item_ids, annotator, shown)],
            )
            cursor.execute(f"SELECT id FROM {Assignment._meta.db_table} WHERE item_id >= %s ORDER BY item_id, annotator_id",
                           [int(item_ids[0])])
            assignment_ids = [row[0] for row in cursor.fetchall()]
            order = np.lexsort((user_ids[annotator], item_ids))  # the same order as the SELECT
            cursor.executemany(
                insert_judgement,
                [
                    (assignment_ids[k], project.pk, int(item_ids[j]), int(user_ids[annotator[j]]),
                     "[1, 2]" if pick[j] == 0 else "[2, 1]", shown[j], float(seconds[j]), now, now)
                    for k, j in enumerate(order)
                ],
            )
    return project


def best_of(repeats: int, step, connection) -> tuple:
    """(result, figures) of the fastest of `repeats` runs of step(): wall seconds, this process's CPU
    seconds and the database server's (None where it is not a local PostgreSQL backend)."""
    best = None
    for _ in range(repeats):
        wall, cpu, server = time.perf_counter(), time.process_time(), database_cpu_seconds(connection)
        result = step()
        figures = {"s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
                   "db_cpu_s": None if server is None else database_cpu_seconds(connection) - server}
        if best is None or figures["s"] < best[1]["s"]:
            best = result, figures
    return best[0], {key: None if value is None else round(value, 2) for key, value in best[1].items()}


def measure(judgements: int, repeats: int) -> dict:
    """In a child process whose DATABASE_URL names the database to measure."""
    with throwaway_database() as connection:
        from annotate import bias
        from annotate.flag_thresholds import merged_flag_thresholds
        from annotate.models import Judgement

        started = time.perf_counter()
        project = build_project(judgements)
        build_seconds = time.perf_counter() - started

        data, load = best_of(repeats, lambda: bias.load_judgement_arrays(project), connection)
        flags, compute = best_of(repeats, lambda: bias.flags_from_arrays(data, merged_flag_thresholds()), connection)
        active, refresh = best_of(repeats, lambda: bias.refresh_flags(project), connection)
        return {
            "database": connection.vendor,
            "judgements": Judgement.objects.filter(project=project).count(),
            "annotators": len(data.annotator_ids),
            "build_s": round(build_seconds, 1),
            **{f"{step}_{key}": value for step, figures in (("load", load), ("compute", compute), ("refresh", refresh))
               for key, value in figures.items()},
            "flags": active,
            "flags_by_kind": dict(Counter(str(flag.kind) for flag in flags)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judgements", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="a PostgreSQL server to measure too (a test database is created and dropped)")
    parser.add_argument("--repeats", type=int, default=3, help="time each step this many times and keep the fastest")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        judgements, repeats = (int(part) for part in args.measure.split(","))
        print(json.dumps(measure(judgements, repeats)))
        return

    with tempfile.TemporaryDirectory() as folder:
        rows = measure_each_database(__file__, f"{args.judgements},{args.repeats}", args.database_url, folder)

    print(f"all flags over {args.judgements:,} pairwise judgements by {ANNOTATORS:,} annotators (target: refresh < 10 s); "
          f"best of {args.repeats}; cpu = this process / the PostgreSQL backend (SQLite runs in the process)")
    print(f"{'database':<12}{'judgements':>12}{'load s':>9}{'cpu':>12}{'compute s':>11}{'cpu':>7}{'refresh s':>11}{'cpu':>12}"
          f"{'flags':>7}  by kind")
    for row in rows:
        print(f"{row['database']:<12}{row['judgements']:>12,}{row['load_s']:>9}{_cpu(row, 'load'):>12}{row['compute_s']:>11}"
              f"{row['compute_cpu_s']:>7}{row['refresh_s']:>11}{_cpu(row, 'refresh'):>12}{row['flags']:>7}  {row['flags_by_kind']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"judgements": args.judgements, "repeats": args.repeats, "runs": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


def _cpu(row: dict, step: str) -> str:
    server = row[f"{step}_db_cpu_s"]
    return f"{row[f'{step}_cpu_s']}" + ("" if server is None else f" / {server}")


if __name__ == "__main__":
    main()
