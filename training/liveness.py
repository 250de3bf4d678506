"""Whether the worker running a run is still alive, and what happens to runs whose worker is not.

A running run records its worker's host, process id and a heartbeat that a thread beside the
training loop refreshes. A worker is lost when its process is gone from this host, or when its
heartbeat is older than settings.TRAINING_HEARTBEAT_TIMEOUT_SECONDS (any host). Lost runs are
failed with the reason, or queued again from their last checkpoint (`runs.handle_worker_loss`).
Workers check at start-up (signal worker_ready), Celery beat checks periodically, and the run
page checks the run it shows.
"""
import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from . import runs
from .models import Run

logger = logging.getLogger(__name__)


def this_worker() -> dict:
    return {"worker_host": socket.gethostname(), "worker_pid": os.getpid()}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def loss_reason(run: Run, *, now: datetime) -> str | None:
    """Why `run`'s worker counts as lost, or None while it looks alive."""
    if run.status != Run.Status.RUNNING:
        return None
    if run.worker_host == socket.gethostname() and run.worker_pid and not process_alive(run.worker_pid):
        return f"its worker (pid {run.worker_pid} on {run.worker_host}) stopped while training"
    timeout = timedelta(seconds=settings.TRAINING_HEARTBEAT_TIMEOUT_SECONDS)
    if run.heartbeat_at is None or now - run.heartbeat_at > timeout:
        seen = run.heartbeat_at.isoformat(timespec="seconds") if run.heartbeat_at else "never"
        return (
            f"its worker (pid {run.worker_pid} on {run.worker_host}) sent no heartbeat for over "
            f"{timeout.total_seconds():.0f} s (last seen {seen})"
        )
    return None


def reap_lost_runs(*, now: datetime | None = None, runs_to_check=None) -> list[Run]:
    """Fail (or requeue) every running run whose worker is lost; the runs changed."""
    now = now or timezone.now()
    candidates = runs_to_check if runs_to_check is not None else Run.objects.filter(status=Run.Status.RUNNING)
    changed = []
    for run in candidates:
        reason = loss_reason(run, now=now)
        if reason is None:
            continue
        try:
            changed.append(runs.handle_worker_loss(run, f"Worker lost: {reason}."))
        except runs.InvalidTransition:
            continue  # it finished or was reaped by someone else meanwhile
    return changed


class Heartbeat:
    """Refreshes a run's heartbeat every settings.TRAINING_HEARTBEAT_SECONDS from a thread, so that
    a long step (loading a model, a slow batch) is not mistaken for a dead worker."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-run-{run_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopped.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stopped.wait(settings.TRAINING_HEARTBEAT_SECONDS):
                try:
                    close_old_connections()
                    Run.objects.filter(pk=self.run_id, status=Run.Status.RUNNING).update(heartbeat_at=timezone.now())
                except DatabaseError:
                    # A missed beat is harmless; a thread that died on it would get a live run reaped as lost.
                    logger.warning("could not record the heartbeat of run %s", self.run_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection
