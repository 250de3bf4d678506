"""How long every bias and quality flag takes over a project of a million judgements.

    python benchmarks/flags_bench.py [--judgements 1000000] [--database-url postgres://...]

For each database it runs itself in a child process that creates a throwaway test database,
writes a pairwise project (overlap 3, 2 responses per item; 1,000 annotators of whom a few
are position-biased, fast or random), then times loading the judgements into arrays, computing
all flags, and refresh_flags (load + compute + store), and drops the database. Prints a table;
writes benchmarks/results/flags.json. Target: all flags under 10 s for 1M judgements.
"""
import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from child_process import measure_each_database, throwaway_database

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


def measure(judgements: int) -> dict:
    """In a child process whose DATABASE_URL names the database to measure."""
    with throwaway_database() as connection:
        from annotate import bias
        from annotate.flag_thresholds import merged_flag_thresholds
        from annotate.models import Judgement

        started = time.perf_counter()
        project = build_project(judgements)
        build_seconds = time.perf_counter() - started

        started = time.perf_counter()
        data = bias.load_judgement_arrays(project)
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        flags = bias.flags_from_arrays(data, merged_flag_thresholds())
        compute_seconds = time.perf_counter() - started
        started = time.perf_counter()
        active = bias.refresh_flags(project)
        refresh_seconds = time.perf_counter() - started
        return {
            "database": connection.vendor,
            "judgements": Judgement.objects.filter(project=project).count(),
            "annotators": len(data.annotator_ids),
            "build_s": round(build_seconds, 1),
            "load_s": round(load_seconds, 2),
            "compute_s": round(compute_seconds, 2),
            "refresh_s": round(refresh_seconds, 2),
            "flags": active,
            "flags_by_kind": dict(Counter(str(flag.kind) for flag in flags)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judgements", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="a PostgreSQL server to measure too (a test database is created and dropped)")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return

    with tempfile.TemporaryDirectory() as folder:
        rows = measure_each_database(__file__, args.judgements, args.database_url, folder)

    print(f"all flags over {args.judgements:,} pairwise judgements by {ANNOTATORS:,} annotators (target: refresh < 10 s)")
    print(f"{'database':<12}{'judgements':>12}{'load s':>9}{'compute s':>11}{'refresh s':>11}{'flags':>7}  by kind")
    for row in rows:
        print(f"{row['database']:<12}{row['judgements']:>12,}{row['load_s']:>9}{row['compute_s']:>11}"
              f"{row['refresh_s']:>11}{row['flags']:>7}  {row['flags_by_kind']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"judgements": args.judgements, "runs": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
