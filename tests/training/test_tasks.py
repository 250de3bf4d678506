"""execute_run through real worker processes: cancel, resume, and workers killed mid-run."""
import signal
import time

import pytest
from transformers import AutoModelForSequenceClassification

from training import runs
from training.engine.tiny import write_marker_dataset
from training.models import Run

pytestmark = [pytest.mark.worker, pytest.mark.slow]

Status = Run.Status
# Small enough to finish in seconds, slow enough (one metric row per step) to act on mid-run.
STEPWISE = {"base_model": "tiny", "max_steps": 40, "per_device_batch_size": 8, "max_length": 48, "logging_steps": 1,
            "save_steps": 5, "precision": "fp32", "learning_rate": 1e-3}


@pytest.fixture
def worker_env(settings, tmp_path):
    settings.RUNS_DIR = tmp_path / "runs"
    return {"PREFSTACK_RUNS_DIR": str(settings.RUNS_DIR), "TRAINING_HEARTBEAT_SECONDS": "1"}


@pytest.fixture
def marker_data(tmp_path):
    return write_marker_dataset(tmp_path / "marker", n_train=96, n_test=32)


def launch(data, **fields) -> Run:
    return runs.launch(runs.LaunchRequest(kind="reward", config_overrides=STEPWISE, dataset_path=str(data), **fields))


def wait_for(run: Run, condition, what: str, timeout: float = 120) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if condition(run):
            return run
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s: {run.status} {run.error!r}\n{run.log_tail}")


def last_step(run: Run) -> int:
    return run.metrics.order_by("-step").values_list("step", flat=True).first() or 0


def test_cancel_resume_and_a_killed_worker_through_real_workers(celery_workers, worker_env, marker_data):
    first_worker = celery_workers(**worker_env)
    run = launch(marker_data, resume_on_worker_loss=True)
    wait_for(run, lambda r: last_step(r) >= 6, "six logged steps")
    seen = last_step(run)
    runs.request_cancel(run)
    run = wait_for(run, lambda r: r.status == Status.CANCELLED, "the cancel")
    assert run.final_step <= seen + 2  # the step running when asked, and at most one more logging step
    assert runs.has_checkpoint(run) and not run.final_model_path.exists()
    cancelled_at = run.final_step

    runs.resume(run)
    wait_for(run, lambda r: r.status == Status.RUNNING and last_step(r) >= cancelled_at + 6, "six steps after resuming")
    assert "resuming from checkpoint-" in run.log_tail
    first_worker.send_signal(signal.SIGKILL)
    first_worker.wait()

    celery_workers(**worker_env)  # at start-up it finds the run's worker gone and queues the run again
    run = wait_for(run, lambda r: r.status == Status.SUCCEEDED, "the run resumed after the kill")
    assert (run.final_step, run.attempts) == (40, 3)
    steps = list(run.metrics.values_list("step", flat=True))
    assert steps.count(1) == 1, "no attempt started again from step 1"
    AutoModelForSequenceClassification.from_pretrained(run.final_model_path)


def test_a_run_whose_worker_was_killed_is_failed_with_the_reason_when_a_worker_starts(celery_workers, worker_env,
                                                                                      marker_data):
    worker = celery_workers(**worker_env)
    run = wait_for(launch(marker_data), lambda r: r.status == Status.RUNNING, "the worker taking the run")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert Run.objects.get(pk=run.pk).status == Status.RUNNING  # nobody knows yet

    celery_workers(**worker_env)
    run = wait_for(run, lambda r: r.status == Status.FAILED, "the run failing")
    assert run.error == f"Worker lost: its worker (pid {worker.pid} on {run.worker_host}) stopped while training."
