import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factory users would otherwise each cost a full PBKDF2 run (about a second on a busy core)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def database_vendor() -> str:
    return connection.vendor


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: this run uses SQLite (the test command runs a PostgreSQL pass when one is reachable)")


def _database_url_for_workers() -> str:
    """The URL of the test database this test process created, for child processes."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


@pytest.fixture
def celery_worker_process(celery_workers):
    """A real `celery worker` process on both queues, against the test database.

    It shares this process's broker spool (settings.DATA_DIR), purged first so that no
    message from an earlier run reaches it. Tests must use committed data
    (transactional_db) because the worker reads through its own connection.
    Returns the Celery app.
    """
    from prefstack.celery import app

    celery_workers()
    return app


@pytest.fixture
def celery_workers(transactional_db, tmp_path):
    """Starts real workers on demand, `start(**extra_env) -> Popen`, for tests that kill or restart
    them; the broker is purged first and every worker still alive is stopped at the end."""
    from prefstack.celery import app

    app.control.purge()
    started = []

    def start(**extra_env) -> subprocess.Popen:
        started.append(start_celery_worker(tmp_path / f"worker-{len(started)}.log", **extra_env))
        return started[-1]

    yield start
    for worker in started:
        stop_celery_worker(worker)


def start_celery_worker(log_path: Path, **extra_env) -> subprocess.Popen:
    """A worker process on both queues against this test's database; returns once it is ready."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_workers(),
        "PREFSTACK_DATA_DIR": str(settings.DATA_DIR),
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "prefstack", "worker", "-Q", "default,gpu", "--pool", "solo",
             "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "-n", f"test-{os.getpid()}-{log_path.stem}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_ready(worker, log_path)
    except RuntimeError:
        stop_celery_worker(worker)
        raise
    return worker


def stop_celery_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _wait_for_ready(worker: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"celery worker exited early:\n{log_path.read_text()}")
        if "ready." in log_path.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"celery worker not ready after {timeout}s:\n{log_path.read_text()}")
