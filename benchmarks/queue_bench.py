"""How fast the queue hands out and records items as a project grows, on SQLite and PostgreSQL.

    python benchmarks/queue_bench.py [--sizes 10000,100000,1000000] [--db sqlite,postgres]
                                     [--concurrency 1,8,32] [--seconds 8] [--database-url postgres://...]

For each database it runs itself in a child process that creates a throwaway test database
and, for each size, builds a pairwise project of that many items (overlap 3, 2 responses
each, 1% gold items served at the default gold rate) by COPY on PostgreSQL and executemany
on SQLite. Then 1, 8 and 32 annotator processes, each with its own connection and a fresh
login, call next_assignment and submit in a loop for a few seconds; the project keeps what
earlier runs judged, so later runs meet partly judged items as a live project would.
Latencies are measured around the service calls (server side, no HTTP); throughput is
judgements per second over all annotators. On the largest project it also EXPLAINs every
statement of one next+submit and reports any that read a table without an index.
Prints a table; writes benchmarks/results/queue.json.
"""
import argparse
import copy
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from child_process import throwaway_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "queue.json"
GOLD_EVERY = 100
PROMPT = "Explain, in a few sentences, how a hash map resolves collisions and what that costs. " * 2
# Tables that grow with the project; a full scan of any other (projects, memberships) is harmless.
BIG_TABLES = ("annotate_item", "annotate_response", "annotate_assignment", "annotate_judgement")
# The statements EXPLAIN can replay (not BEGIN, COMMIT, SAVEPOINT).
DATA_STATEMENTS = ("SELECT", "UPDATE", "INSERT", "DELETE", "WITH")
ITEM_COLUMNS = ("project_id", "external_id", "prompt", "metadata", "is_gold", "gold_answer", "judgement_count", "created_at")


def build_project(size: int):
    from django.db import connection, transaction
    from django.utils import timezone

    from annotate.models import Item, Project, Response, TaskMode

    project = Project.objects.create(name=f"Bench {size}", slug=f"bench-{size}", task_mode=TaskMode.PAIRWISE, overlap=3)
    now = timezone.now()
    prompt = json.dumps(PROMPT)
    rows = (
        (project.pk, f"bench-{n}", prompt, "{}", n % GOLD_EVERY == 0, "[1, 2]" if n % GOLD_EVERY == 0 else None, 0, now)
        for n in range(size)
    )
    quote = connection.ops.quote_name
    items, responses = quote(Item._meta.db_table), quote(Response._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {items} ({', '.join(ITEM_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                f"INSERT INTO {items} ({', '.join(ITEM_COLUMNS)}) VALUES ({', '.join(['%s'] * len(ITEM_COLUMNS))})",
                (row[:-1] + (adapt(row[-1]),) for row in rows),
            )
        # Two responses per item, written by the database itself from the items just inserted.
        cursor.execute(
            f"INSERT INTO {responses} (item_id, position, text, model_name) "
            f"SELECT i.id, p.position, 'Response ' || p.position || ' to ' || i.external_id || ': "
            f"open addressing probes the next free slot; chaining keeps a list per bucket.', 'model-' || p.position "
            f"FROM {items} i CROSS JOIN (SELECT 0 AS position UNION ALL SELECT 1) p WHERE i.project_id = %s",
            [project.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return project


def new_annotators(project, count: int, tag: str) -> list[int]:
    from django.contrib.auth import get_user_model

    from annotate.models import Membership

    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{project.slug}-{tag}-{n}") for n in range(count)
    )
    if not all(user.pk for user in users):  # SQLite before 3.35 returns no ids from bulk_create
        users = list(get_user_model().objects.filter(username__startswith=f"{project.slug}-{tag}-"))
    Membership.objects.bulk_create(Membership(project=project, user=user) for user in users)
    return [user.pk for user in users]


def annotate_until(project_id: int, user_id: int, start_at: float, stop_at: float, results) -> None:
    """One annotator process: next + submit until stop_at; puts its latencies (seconds) on `results`."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from annotate.models import Project
    from annotate.queue import next_assignment, submit

    project = Project.objects.get(pk=project_id)
    annotator = get_user_model().objects.get(pk=user_id)
    rng = random.Random(user_id)
    nexts, submits, cpu_seconds = [], [], 0.0
    time.sleep(max(0.0, start_at - time.monotonic()))
    cpu_started = time.process_time()
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        assignment = next_assignment(project, annotator)
        leased = time.perf_counter()
        if assignment is None:
            break
        submit(assignment.pk, annotator, ranks=rng.choice([[1, 2], [2, 1], [1, 1]]), seconds_spent=3.0)
        nexts.append(leased - started)
        submits.append(time.perf_counter() - leased)
    cpu_seconds = time.process_time() - cpu_started
    connections.close_all()
    results.put((nexts, submits, time.monotonic(), cpu_seconds))


def run_annotators(project, count: int, seconds: float) -> dict:
    from django.db import connections

    user_ids = new_annotators(project, count, f"c{count}")
    connections.close_all()  # each forked annotator opens its own connection
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.monotonic() + 1.0 + count * 0.05
    stop_at = start_at + seconds
    workers = [
        context.Process(target=annotate_until, args=(project.pk, user_id, start_at, stop_at, results))
        for user_id in user_ids
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=seconds + 300) for _ in workers]
    for worker in workers:
        worker.join()
    nexts = sorted(latency for outcome in outcomes for latency in outcome[0])
    submits = sorted(latency for outcome in outcomes for latency in outcome[1])
    elapsed = max(outcome[2] for outcome in outcomes) - start_at
    cpu_seconds = sum(outcome[3] for outcome in outcomes)
    return {
        "annotators": count,
        "judgements": len(nexts),
        "judgements_per_s": round(len(nexts) / elapsed, 1),
        "next_p50_ms": percentile_ms(nexts, 50),
        "next_p99_ms": percentile_ms(nexts, 99),
        "submit_p50_ms": percentile_ms(submits, 50),
        "submit_p99_ms": percentile_ms(submits, 99),
        # Python CPU (ORM, driver) per next+submit, which the load of the host does not stretch as much.
        "client_cpu_ms_per_judgement": round(cpu_seconds / max(1, len(nexts)) * 1000, 2),
    }


def host_floor() -> dict:
    """What any query pays on this host right now: a round trip, and a commit that writes (p50/p99, ms)."""
    from django.db import connection, transaction

    from annotate.models import Project

    project_id = Project.objects.values_list("pk", flat=True).first()
    round_trips, commits = [], []
    with connection.cursor() as cursor:
        for _ in range(200):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            round_trips.append(time.perf_counter() - started)
    for _ in range(100):
        started = time.perf_counter()
        with transaction.atomic():
            Project.objects.filter(pk=project_id).update(undo_seconds=120)
        commits.append(time.perf_counter() - started)
    round_trips.sort()
    commits.sort()
    return {"select_1_p50_ms": percentile_ms(round_trips, 50), "select_1_p99_ms": percentile_ms(round_trips, 99),
            "write_commit_p50_ms": percentile_ms(commits, 50), "write_commit_p99_ms": percentile_ms(commits, 99)}


def percentile_ms(sorted_seconds: list[float], percent: float) -> float | None:
    if not sorted_seconds:
        return None
    index = min(len(sorted_seconds) - 1, round(percent / 100 * (len(sorted_seconds) - 1)))
    return round(sorted_seconds[index] * 1000, 2)


def explain_hot_path(project) -> dict:
    """EXPLAIN every statement of next_assignment + submit (a regular item, then a gold one) by a fresh
    annotator, each rolled back: any full scan of a table that grows with the project, and the database's
    own time for the statements (EXPLAIN ANALYZE on PostgreSQL; on SQLite, in process, the best of 5 runs).
    Also counts the round trips of one next+submit, transaction control (BEGIN, COMMIT) included."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotate.queue import next_assignment, submit

    annotator = get_user_model().objects.get(pk=new_annotators(project, 1, f"explain{time.monotonic_ns()}")[0])
    regular_only, gold_only = copy.copy(project), copy.copy(project)
    regular_only.gold_rate, gold_only.gold_rate = 0.0, 1.0
    with CaptureQueriesContext(connection) as captured:
        for variant in (regular_only, gold_only):
            assignment = next_assignment(variant, annotator)
            submit(assignment.pk, annotator, ranks=[1, 2], seconds_spent=3.0)
    statements = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(DATA_STATEMENTS)]
    plans = [_explain(sql) for sql in statements]
    return {
        "statements": len(plans),
        "round_trips_per_judgement": len(captured.captured_queries) / 2,
        "database_ms": round(sum(plan["ms"] for plan in plans), 2),
        "full_scans": [scan for plan in plans for scan in plan["full_scans"]],
        "plans": plans,
    }


def _explain(sql: str) -> dict:
    from django.db import connection, transaction

    postgres = connection.vendor == "postgresql"
    prefix, full_scan = ("EXPLAIN (ANALYZE, BUFFERS) ", "Seq Scan on ") if postgres else ("EXPLAIN QUERY PLAN ", "SCAN ")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        plan = [" | ".join(str(part) for part in row) for row in cursor.fetchall()]
        transaction.set_rollback(True)
    if postgres:
        ms = sum(float(line.split(":")[1].split()[0]) for line in plan if line.startswith(("Planning Time", "Execution Time")))
    else:
        ms = min(_run_rolled_back(sql) for _ in range(5)) * 1000
    scans = [line.strip(" ->").split("  (")[0] for line in plan
             if any(f"{full_scan}{table}" in line for table in BIG_TABLES) and "USING" not in line]
    return {"sql": sql, "plan": plan, "full_scans": scans, "ms": round(ms, 3)}


def _run_rolled_back(sql: str) -> float:
    from django.db import IntegrityError, connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        try:
            cursor.execute(sql)
            cursor.fetchall()
        except IntegrityError:
            pass  # a replayed INSERT meets the row it inserted the first time; it did the work before that
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def measure(sizes: list[int], concurrency: list[int], seconds: float, synchronous_commit: bool) -> dict:
    """In a child process whose DATABASE_URL names the database to measure."""
    with throwaway_database() as connection:
        from django.db import connections

        database = connection.vendor
        if database == "postgresql" and not synchronous_commit:
            # Every connection opened from now on (the annotators') commits without waiting for the WAL flush.
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {connection.ops.quote_name(connection.settings_dict['NAME'])} "
                               "SET synchronous_commit = off")
            database += " (async commit)"
        runs, hot_paths = [], []
        for size in sizes:
            started = time.perf_counter()
            project = build_project(size)
            build_s = round(time.perf_counter() - started, 1)
            connections.close_all()  # a fresh connection, with the database's commit setting
            floor = host_floor()
            for count in concurrency:
                runs.append({"database": database, "items": size, "build_s": build_s,
                             **run_annotators(project, count, seconds), "floor": floor})
            hot_paths.append({"items": size, **explain_hot_path(project)})
        return {"database": database, "runs": runs, "hot_paths": hot_paths}


def run_child(database_url: str | None, data_dir: str, args, synchronous_commit: bool = True) -> dict:
    # DEBUG off, as in production: Django then keeps no log of every query.
    env = {**os.environ, "PREFSTACK_DATA_DIR": data_dir, "DEBUG": "0", "SECRET_KEY": "queue-benchmark-only"}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    command = [sys.executable, __file__, "--measure", "--sizes", args.sizes, "--concurrency", args.concurrency,
               "--seconds", str(args.seconds), "--pg-commit", "on" if synchronous_commit else "off"]
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(results: list[dict]) -> None:
    print(f"{'database':<28}{'items':>10}{'build s':>9}{'annot.':>8}{'judged':>8}{'judg./s':>9}"
          f"{'next p50':>10}{'next p99':>10}{'submit p50':>12}{'submit p99':>12}{'cpu/judg.':>11}"
          f"{'floor: SELECT 1 p50/p99':>25}{'commit p50/p99':>16}   (ms)")
    for result in results:
        for run in result["runs"]:
            floor = run["floor"]
            print(f"{run['database']:<28}{run['items']:>10,}{run['build_s']:>9}{run['annotators']:>8}{run['judgements']:>8}"
                  f"{run['judgements_per_s']:>9}{run['next_p50_ms']!s:>10}{run['next_p99_ms']!s:>10}"
                  f"{run['submit_p50_ms']!s:>12}{run['submit_p99_ms']!s:>12}{run['client_cpu_ms_per_judgement']:>11}"
                  f"{floor['select_1_p50_ms']:>18}/{floor['select_1_p99_ms']:<6}"
                  f"{floor['write_commit_p50_ms']:>9}/{floor['write_commit_p99_ms']:<6}")
    print("\nThe database's own time for the statements of next+submit on a regular item and on a gold one:")
    print(f"{'database':<28}{'items':>10}{'statements':>12}{'round trips/judg.':>19}{'database ms':>13}"
          "   full scans of a growing table")
    for result in results:
        for hot in result["hot_paths"]:
            print(f"{result['database']:<28}{hot['items']:>10,}{hot['statements']:>12}"
                  f"{hot['round_trips_per_judgement']:>19}{hot['database_ms']:>13}   "
                  f"{'; '.join(hot['full_scans']) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="project sizes in items, comma-separated")
    parser.add_argument("--db", default="sqlite,postgres", help="databases to measure: sqlite, postgres or both")
    parser.add_argument("--concurrency", default="1,8,32", help="numbers of concurrent annotators, comma-separated")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long each group of annotators works")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/queue_bench",
                        help="the PostgreSQL server (a test database beside this name is created and dropped)")
    parser.add_argument("--pg-commit", default="on",
                        help="PostgreSQL synchronous_commit: on (durable, the default), off (no wait for the WAL "
                             "flush, the durability of the SQLite settings), or on,off for both")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    concurrency = [int(count) for count in args.concurrency.split(",")]
    if args.measure:
        print(json.dumps(measure(sizes, concurrency, args.seconds, synchronous_commit=args.pg_commit == "on")))
        return

    databases = [name.strip() for name in args.db.split(",")]
    unknown = set(databases) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"--db: unknown database(s) {', '.join(sorted(unknown))}; use sqlite, postgres or both")
    commit_modes = [mode.strip() == "on" for mode in args.pg_commit.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name in databases:
            if name == "sqlite":
                results.append(run_child(None, folder, args))
            else:
                results.extend(run_child(args.database_url, folder, args, synchronous) for synchronous in commit_modes)
    print_table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"host: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)")
    RESULTS.write_text(json.dumps({"sizes": sizes, "concurrency": concurrency, "seconds": args.seconds,
                                   "cpus": os.cpu_count(), "load_average": load,
                                   "results": results}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
