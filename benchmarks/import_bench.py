"""How fast `import_items` loads a large native JSONL file, on SQLite and on PostgreSQL.

    python benchmarks/import_bench.py [--items 100000] [--database-url postgres://...]

It writes a file of N items (2-4 responses each, some chat prompts, some gold), then, for
each database, runs itself in a child process that creates a throwaway test database,
imports the file into a ranking project (a fresh import, then a re-import that skips every
duplicate), and drops the database. Prints a table; writes benchmarks/results/import.json.
"""
import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from child_process import measure_each_database, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "import.json"


def write_items(path: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    words = "the model answer prompt rank code table list gold pair data item token sample loss".split()
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            text = " ".join(rng.choices(words, k=rng.randint(20, 120)))
            prompt = text if n % 5 else [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
            responses = [
                {"text": " ".join(rng.choices(words, k=rng.randint(30, 200))), "model": f"model-{k}"}
                for k in range(rng.randint(2, 4))
            ]
            record = {"id": f"bench-{n}", "prompt": prompt, "responses": responses, "metadata": {"topic": rng.choice(words)}}
            if n % 50 == 0:
                record["gold_answer"] = list(range(1, len(responses) + 1))
            out.write(json.dumps(record) + "\n")


def measure(path: Path) -> dict:
    """In a child process whose DATABASE_URL names the database to measure."""
    with throwaway_database() as connection:
        from annotate.importing import import_items
        from annotate.models import Item, Project, Response, TaskMode

        project = Project.objects.create(name="Bench", slug="bench", task_mode=TaskMode.RANKING)
        started = time.perf_counter()
        first = import_items(project, path)
        import_seconds = time.perf_counter() - started
        assert first.ok, first.errors[:5]
        started = time.perf_counter()
        again = import_items(project, path, on_duplicate="skip")
        reimport_seconds = time.perf_counter() - started
        assert again.ok and again.skipped == first.created, again.summary()
        return {
            "database": connection.vendor,
            "items": Item.objects.count(),
            "responses": Response.objects.count(),
            "import_s": round(import_seconds, 2),
            "items_per_s": round(first.created / import_seconds),
            "reimport_skip_s": round(reimport_seconds, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--database-url", help="a PostgreSQL server to measure too (a test database is created and dropped)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "items.jsonl"
        write_items(path, args.items)
        size_mb = path.stat().st_size / 1e6
        rows = measure_each_database(__file__, path, args.database_url, folder)

    print(f"{args.items:,} native JSONL items, {size_mb:.0f} MB")
    print(f"{'database':<12}{'items':>9}{'responses':>11}{'import s':>10}{'items/s':>10}{'re-import (skip) s':>20}")
    for row in rows:
        print(f"{row['database']:<12}{row['items']:>9,}{row['responses']:>11,}{row['import_s']:>10}"
              f"{row['items_per_s']:>10,}{row['reimport_skip_s']:>20}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"items": args.items, "file_mb": round(size_mb, 1), "runs": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
