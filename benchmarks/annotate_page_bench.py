"""How long an annotator waits between pressing Enter and seeing the next item, in Chromium.

    python benchmarks/annotate_page_bench.py [--items 30] [--database-url postgres://...]

For each database it runs itself in a child process that creates a throwaway test
database, a pairwise and a ranking (4 responses) project, and a logged-in annotator, serves
the site from a live server thread, and drives the system Chromium through Playwright: judge
by keyboard, press Enter, repeat. The page itself records, for every item, the time from the
Enter keydown to the server's answer having arrived, to htmx swapping in the next item, and
to the next animation frame (when the new item is painted). The server thread also records
each POST's CPU time, which does not grow when other processes crowd the machine the way
wall-clock time does. The first few items are warm-up and not counted. Prints a table and
writes benchmarks/results/annotate_page.json.
"""
import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from child_process import django_setup, measure_each_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "annotate_page.json"
CHROMIUM = "/usr/bin/chromium"
WARM_UP = 3
POST_CPU_MS: list[float] = []

# Installed in the page: timestamps taken by the browser, so Playwright's own round trips
# do not count.
RECORDER = """
window.__latencies = [];
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter") window.__enterAt = performance.now();
}, true);
document.addEventListener("htmx:beforeSwap", () => { window.__answeredAt = performance.now(); });
document.addEventListener("htmx:afterSwap", () => {
  const enterAt = window.__enterAt, answeredAt = window.__answeredAt;
  if (enterAt === undefined) return;
  const swappedAt = performance.now();
  requestAnimationFrame(() => window.__latencies.push(
    {answer: answeredAt - enterAt, swap: swappedAt - enterAt, frame: performance.now() - enterAt}));
  window.__enterAt = undefined;
});
"""


def measure(items: int) -> dict:
    """In a child process whose DATABASE_URL names the database to measure."""
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    django_setup()
    from django.conf import settings
    from django.db import connection

    settings.DEBUG = False  # as in production (and as Django's test runner does): no log of every query

    if connection.vendor == "sqlite":
        # A file, not the in-memory default, so the server thread shares the data.
        connection.settings_dict["TEST"]["NAME"] = str(Path(settings.DATA_DIR) / "annotate_page_bench.sqlite3")
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return {"database": connection.vendor, **drive_browser(items)}
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def drive_browser(items: int) -> dict:
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright

    class CpuTimedHandler(StaticFilesHandler):
        """Records each POST's CPU time in its server thread: the server's cost, whatever the load."""

        def __call__(self, environ, start_response):
            started = time.thread_time()
            response = super().__call__(environ, start_response)
            if environ["REQUEST_METHOD"] == "POST":
                POST_CPU_MS.append((time.thread_time() - started) * 1000)
            return response

    server = LiveServerThread("127.0.0.1", CpuTimedHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base_url = f"http://127.0.0.1:{server.port}"
    try:
        session_key, projects = build_data(items + WARM_UP)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context()
            context.add_cookies([{"name": "sessionid", "value": session_key, "url": base_url}])
            page = context.new_page()
            page.add_init_script(RECORDER)
            results = {mode: judge_items(page, f"{base_url}/p/{slug}/", keys, items) for mode, (slug, keys) in projects.items()}
            browser.close()
    finally:
        server.terminate()
    return results


def build_data(count: int) -> tuple[str, dict]:
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from annotate.models import Item, Membership, Project, Response, TaskMode

    user = get_user_model().objects.create_user("bench-annotator", password="bench-password-123")
    text = "A response of a realistic length, with `code`, a list:\n\n- one\n- two\n\n" + "Some prose. " * 40
    projects = {}
    for mode, responses, keys in [(TaskMode.PAIRWISE, 2, ["1"]), (TaskMode.RANKING, 4, ["2", "4", "1"])]:
        project = Project.objects.create(name=f"Bench {mode}", slug=f"bench-{mode}", task_mode=mode, gold_rate=0)
        Membership.objects.create(project=project, user=user)
        for n in range(count):
            item = Item.objects.create(project=project, external_id=f"bench-{n}", prompt=f"Question {n}: explain recursion.")
            Response.objects.bulk_create(Response(item=item, position=p, text=f"{p}. {text}") for p in range(responses))
        projects[str(mode)] = (project.slug, keys)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return session.session_key, projects


def judge_items(page, url: str, keys: list[str], items: int) -> dict:
    POST_CPU_MS.clear()
    page.goto(url)
    for _ in range(items + WARM_UP):
        page.wait_for_selector("#judgement")
        before = page.get_attribute("#judgement", "data-assignment")
        for key in keys:
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        page.wait_for_selector(f'#judgement:not([data-assignment="{before}"]), [data-state]')
    page.wait_for_function(f"window.__latencies.length >= {items + WARM_UP}")
    latencies = page.evaluate("window.__latencies")[WARM_UP:]
    frame = [entry["frame"] for entry in latencies]
    return {
        "items": len(latencies),
        "server_cpu_p50_ms": round(statistics.median(POST_CPU_MS[WARM_UP:]), 1),
        "answer_p50_ms": round(statistics.median(entry["answer"] for entry in latencies), 1),
        "swap_p50_ms": round(statistics.median(entry["swap"] for entry in latencies), 1),
        "frame_p50_ms": round(statistics.median(frame), 1),
        "frame_p90_ms": round(statistics.quantiles(frame, n=10)[-1], 1),
        "frame_max_ms": round(max(frame), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=30, help="items measured per project (after %d warm-up)" % WARM_UP)
    parser.add_argument("--database-url", help="a PostgreSQL server to measure too (a test database is created and dropped)")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return

    with tempfile.TemporaryDirectory() as folder:
        runs = measure_each_database(__file__, args.items, args.database_url, folder)

    print("Enter pressed -> next item swapped in / painted (browser clock, Chromium, live server thread)")
    print(f"{'database':<12}{'mode':<10}{'items':>6}{'server CPU p50 ms':>19}{'answer p50 ms':>15}{'swap p50 ms':>13}{'paint p50 ms':>14}{'paint p90 ms':>14}{'paint max ms':>14}")
    for run in runs:
        for mode in ("pairwise", "ranking"):
            row = run[mode]
            print(f"{run['database']:<12}{mode:<10}{row['items']:>6}{row['server_cpu_p50_ms']:>19}{row['answer_p50_ms']:>15}{row['swap_p50_ms']:>13}{row['frame_p50_ms']:>14}"
                  f"{row['frame_p90_ms']:>14}{row['frame_max_ms']:>14}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"items": args.items, "warm_up": WARM_UP, "runs": runs}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
