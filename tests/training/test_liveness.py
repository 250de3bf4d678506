import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.db.models import QuerySet
from django.utils import timezone

from tests.factories import RunFactory, finished_checkpoint
from training import liveness
from training.models import Run

pytestmark = pytest.mark.django_db

Status = Run.Status


@pytest.fixture
def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def running_run(**fields):
    defaults = {"status": Status.RUNNING, "worker_host": socket.gethostname(), "worker_pid": os.getpid(),
                "heartbeat_at": timezone.now(), "attempts": 1}
    return RunFactory(**{**defaults, **fields})


def test_a_run_whose_worker_process_is_gone_is_failed_with_the_reason(dead_pid):
    run = running_run(worker_pid=dead_pid)
    assert [r.pk for r in liveness.reap_lost_runs()] == [run.pk]
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert f"pid {dead_pid} on {socket.gethostname()}" in run.error and "stopped while training" in run.error
    assert run.finished_at


def test_a_run_with_a_live_worker_and_a_fresh_heartbeat_is_left_alone():
    run = running_run()
    assert liveness.reap_lost_runs() == []
    run.refresh_from_db()
    assert run.status == Status.RUNNING


def test_a_run_on_another_host_is_lost_when_its_heartbeat_is_too_old(settings):
    settings.TRAINING_HEARTBEAT_TIMEOUT_SECONDS = 120
    stale = running_run(worker_host="gpu-far-away", heartbeat_at=timezone.now() - timedelta(seconds=121))
    fresh = running_run(worker_host="gpu-far-away", heartbeat_at=timezone.now() - timedelta(seconds=60))
    assert [r.pk for r in liveness.reap_lost_runs()] == [stale.pk]
    stale.refresh_from_db()
    assert "sent no heartbeat for over 120 s" in stale.error
    assert Run.objects.get(pk=fresh.pk).status == Status.RUNNING


def test_a_lost_run_that_asks_for_it_is_queued_again_from_its_checkpoint(settings, tmp_path, dead_pid,
                                                                         django_capture_on_commit_callbacks):
    settings.RUNS_DIR = tmp_path
    run = running_run(worker_pid=dead_pid, resume_on_worker_loss=True)
    finished_checkpoint(run.output_path, 10)
    with django_capture_on_commit_callbacks() as callbacks:
        liveness.reap_lost_runs()
    run.refresh_from_db()
    assert (run.status, run.resume_requested, run.worker_pid) == (Status.QUEUED, True, None)
    assert len(callbacks) == 1


def test_a_lost_run_out_of_attempts_is_failed_even_when_it_asks_to_resume(settings, dead_pid):
    settings.TRAINING_MAX_ATTEMPTS = 2
    run = running_run(worker_pid=dead_pid, resume_on_worker_loss=True, attempts=2)
    liveness.reap_lost_runs()
    run.refresh_from_db()
    assert run.status == Status.FAILED and "Worker lost" in run.error


def test_runs_that_are_not_running_are_never_reaped(dead_pid):
    for status in (Status.QUEUED, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED):
        running_run(status=status, worker_pid=dead_pid, heartbeat_at=None)
    assert liveness.reap_lost_runs() == []


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_refreshes_the_row(settings):
    settings.TRAINING_HEARTBEAT_SECONDS = 0.05
    run = running_run(heartbeat_at=timezone.now() - timedelta(hours=1))
    with liveness.Heartbeat(run.pk):
        deadline = timezone.now() + timedelta(seconds=10)
        while Run.objects.get(pk=run.pk).heartbeat_at < timezone.now() - timedelta(minutes=1):
            assert timezone.now() < deadline, "no heartbeat within 10 s"
    assert Run.objects.get(pk=run.pk).heartbeat_at > timezone.now() - timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_a_failed_beat_does_not_stop_the_heartbeat(settings, monkeypatch):
    settings.TRAINING_HEARTBEAT_SECONDS = 0.05
    run = running_run(heartbeat_at=timezone.now() - timedelta(hours=1))
    real_update, calls = QuerySet.update, []

    def update_failing_once(queryset, **fields):
        calls.append(fields)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real_update(queryset, **fields)

    monkeypatch.setattr(QuerySet, "update", update_failing_once)
    with liveness.Heartbeat(run.pk):
        deadline = timezone.now() + timedelta(seconds=10)
        while len(calls) < 3:
            assert timezone.now() < deadline, "the heartbeat stopped after a failed beat"
    monkeypatch.undo()
    assert Run.objects.get(pk=run.pk).heartbeat_at > timezone.now() - timedelta(minutes=1)
