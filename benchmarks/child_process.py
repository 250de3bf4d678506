"""What the benchmarks share: each database is measured in a child process whose DATABASE_URL
names it, on a throwaway test database."""
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure_in_child(script: str, argument, database_url: str | None, data_dir: str) -> dict:
    """Run `script --measure argument` against `database_url` (None: SQLite); its last line is JSON."""
    env = {**os.environ, "PREFSTACK_DATA_DIR": data_dir}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, script, "--measure", str(argument)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"the {database_url or 'SQLite'} run of {Path(script).name} failed:\n{done.stderr[-5000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_each_database(script: str, argument, database_url: str | None, data_dir: str) -> list[dict]:
    """SQLite always, then the PostgreSQL server at `database_url` when one is given."""
    urls = [None, database_url] if database_url else [None]
    return [measure_in_child(script, argument, url, data_dir) for url in urls]


def django_setup() -> None:
    """Django set up in this process, on the database its DATABASE_URL names."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prefstack.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()


@contextmanager
def throwaway_database():
    """Django set up in this process on a test database created now and dropped afterwards."""
    django_setup()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def database_cpu_seconds(connection) -> float | None:
    """CPU seconds used so far by the PostgreSQL backend serving `connection`, when that server runs
    on this host (read from /proc); None for SQLite, which works inside this process (its time is
    the process's own CPU time), and for a server elsewhere. Parallel query workers are not counted."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    try:
        name, fields = stat.read_text().split(") ", 1)
    except OSError:
        return None
    if not name.endswith("(postgres"):
        return None
    user, system = fields.split()[11:13]
    return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")
