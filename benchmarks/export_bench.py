"""How fast `create_snapshot` turns judgements into preference pairs, per file format, and its peak memory.

    python benchmarks/export_bench.py [--items 333334] [--database-url postgres://.../scratch]

Builds a ranking-of-4 project with overlap 3 (333,334 items -> 1,000,002 judgements -> 6M pairs)
with bulk inserts into a throwaway test database (SQLite under a temporary folder, or a
`test_...` database beside the one the URL names), then exports it once per file format
(JSONL, Parquet, HF folder), each in a fresh child process so that its peak RSS is its own.
Prints a table; writes benchmarks/results/export.json.
"""
import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from child_process import django_setup

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "export.json"
ANNOTATORS = 12
OVERLAP = 3
BATCH = 5000
WORDS = "the model answer prompt rank code table list gold pair data item token sample loss".split()


def build(items: int) -> dict:
    """Create the test database and fill it; prints the database name for the export children."""
    django_setup()
    from django.db import connection

    from annotate.models import Membership, Project, TaskMode
    from tests.factories import UserFactory

    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    started = time.perf_counter()
    project = Project.objects.create(name="Export bench", slug="export-bench", task_mode=TaskMode.RANKING, overlap=OVERLAP)
    users = [UserFactory(username=f"bench-{n}", password=None) for n in range(ANNOTATORS)]
    Membership.objects.bulk_create(Membership(project=project, user=user) for user in users)
    rng = random.Random(11)
    for first in range(0, items, BATCH):
        _insert_batch(project, users, rng, range(first, min(first + BATCH, items)))
    return {"database": name, "vendor": connection.vendor, "build_s": round(time.perf_counter() - started, 1)}


def _insert_batch(project, users, rng, numbers) -> None:
    """Plain executemany with explicit ids: the ORM's bulk_create spends minutes per million rows here."""
    from django.db import connection, transaction
    from django.utils import timezone

    from annotate.models import Assignment, Item, Judgement, Response

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    items, responses, assignments, judgements = [], [], [], []
    for n in numbers:
        item_id = n + 1
        items.append((item_id, project.pk, f"bench-{n}", json.dumps(_text(rng, 8, 25)), "{}", False, OVERLAP, now))
        responses += [(item_id * 4 + p, item_id, p, _text(rng, 5, 30), f"model-{p}") for p in range(4)]
        for k, annotator in enumerate(rng.sample(users, OVERLAP)):
            row_id = n * OVERLAP + k + 1
            assignments.append((row_id, project.pk, item_id, annotator.pk, "submitted", "[0, 1, 2, 3]", now, now, "", now))
            judgements.append((row_id, row_id, project.pk, item_id, annotator.pk, json.dumps(_ranks(rng)), "[0, 1, 2, 3]",
                               "", rng.uniform(5, 60), now, now))
    with transaction.atomic(), connection.cursor() as cursor:
        _insert(cursor, Item, "id project_id external_id prompt metadata is_gold judgement_count created_at", items)
        _insert(cursor, Response, "id item_id position text model_name", responses)
        _insert(cursor, Assignment, "id project_id item_id annotator_id state shown_order leased_at expires_at skip_reason updated_at",
                assignments)
        _insert(cursor, Judgement, "id assignment_id project_id item_id annotator_id ranks shown_order rationale seconds_spent "
                "created_at updated_at", judgements)


def _insert(cursor, model, columns: str, rows: list[tuple]) -> None:
    names = columns.split()
    cursor.executemany(
        f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})", rows
    )


def _text(rng, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def _ranks(rng) -> list[int]:
    ranks = [1, 2, 3, 4]
    rng.shuffle(ranks)
    return ranks


def export(file_format: str) -> dict:
    django_setup()
    from annotate.export import create_snapshot
    from annotate.models import Project

    baseline_mb = _peak_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    snapshot = create_snapshot(Project.objects.get(slug="export-bench"), options={"file_formats": [file_format]})
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    pairs = snapshot.counts["rows"]["train"] + snapshot.counts["rows"]["test"]
    size_mb = sum(path.stat().st_size for path in snapshot.path.rglob("*") if path.is_file()) / 1e6
    shutil.rmtree(snapshot.path)
    return {
        "format": file_format, "judgements": snapshot.counts["judgements"], "pairs": pairs, "seconds": round(seconds, 1),
        "pairs_per_s": round(pairs / seconds), "cpu_s": round(cpu_seconds, 1),
        "pairs_per_cpu_s": round(pairs / cpu_seconds), "files_mb": round(size_mb), "peak_rss_mb": round(_peak_rss_mb()),
        "baseline_rss_mb": round(baseline_mb),
    }


def destroy(name: str) -> None:
    django_setup()
    from django.db import connection

    original = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = name  # what destroy_test_db drops; it then points back at the original
    connection.creation.destroy_test_db(original, verbosity=0)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child(env: dict, *args) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=333_334)
    parser.add_argument("--formats", nargs="+", default=["jsonl", "parquet", "hf"])
    parser.add_argument("--database-url", help="PostgreSQL: a test_ database is created beside the one named, then dropped")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        step, *values = args.step
        result = {"build": lambda: build(int(values[0])), "export": lambda: export(values[0]),
                  "destroy": lambda: destroy(values[0]) or {}}[step]()
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PREFSTACK_DATA_DIR": folder, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
        env.pop("DATABASE_URL", None)
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        started = time.perf_counter()
        built = child(env, "--step", "build", str(args.items))
        print(f"built {args.items:,} items in {time.perf_counter() - started:.0f}s", flush=True)
        database = built["database"]
        export_env = {**env, "DATABASE_URL": f"sqlite:///{database}" if built["vendor"] == "sqlite"
                      else args.database_url.rsplit("/", 1)[0] + "/" + database}
        rows = []
        for file_format in args.formats:
            rows.append(child(export_env, "--step", "export", file_format))
            print(json.dumps(rows[-1]), flush=True)
        if built["vendor"] != "sqlite":  # a SQLite database goes with the temporary folder
            child(env, "--step", "destroy", database)

    print(f"{args.items:,} items (ranking of 4, overlap {OVERLAP}) on {built['vendor']}, built in {built['build_s']}s")
    # On a shared machine the wall clock counts other people's work too; CPU seconds count this export's own.
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'format':<9}{'judgements':>12}{'pairs':>11}{'wall s':>8}{'pairs/s':>10}{'CPU s':>8}{'pairs/CPU s':>13}"
          f"{'files MB':>10}{'peak RSS MB':>13}")
    for row in rows:
        print(f"{row['format']:<9}{row['judgements']:>12,}{row['pairs']:>11,}{row['seconds']:>8}{row['pairs_per_s']:>10,}"
              f"{row['cpu_s']:>8}{row['pairs_per_cpu_s']:>13,}{row['files_mb']:>10,}{row['peak_rss_mb']:>13,}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"items": args.items, "database": built["vendor"], "build_s": built["build_s"], "runs": rows},
                                  indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
