import json
import socket

import pytest

from tests.factories import RunFactory
from training import execution
from training.engine.tiny import write_marker_dataset
from training.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

Status = Run.Status
QUICK = {"base_model": "tiny", "max_steps": 4, "per_device_batch_size": 8, "max_length": 48, "logging_steps": 1,
         "save_steps": 2, "precision": "fp32"}


@pytest.fixture(autouse=True)
def runs_dir(settings, tmp_path):
    settings.RUNS_DIR = tmp_path / "runs"


def reward_run(dataset_path, **fields):
    return RunFactory(kind="reward", dataset_path=str(dataset_path), config={**RunFactory.build().config, **QUICK}, **fields)


def test_unusable_data_fails_the_run_with_the_reason_and_the_traceback_in_its_log(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "only a prompt"}) + "\n")
    run = execution.execute(reward_run(bad).pk)
    assert run.status == Status.FAILED
    assert run.error.startswith("DatasetError:") and "needs the columns chosen+rejected" in run.error
    assert "Traceback" in run.log_tail
    assert run.worker_host == socket.gethostname() and run.attempts == 1


def test_a_run_past_its_time_limit_is_failed_at_its_first_logging_step(settings, tmp_path):
    settings.TRAINING_TIME_LIMIT_SECONDS = 0
    run = execution.execute(reward_run(write_marker_dataset(tmp_path / "data", n_train=16, n_test=8)).pk)
    assert run.status == Status.FAILED
    assert run.error == "Stopped at step 1: the time limit of 0:00:00 was reached."
    assert set(run.metrics.values_list("step", flat=True)) == {1}


def test_nothing_runs_for_a_run_that_is_no_longer_queued(tmp_path):
    for status in (Status.CANCELLED, Status.SUCCEEDED):
        run = reward_run(tmp_path / "never-read.jsonl", status=status)
        assert execution.execute(run.pk) is None
        assert Run.objects.get(pk=run.pk).status == status


def test_a_redelivered_message_of_a_run_whose_worker_died_fails_it(tmp_path):
    run = reward_run(tmp_path / "never-read.jsonl", status=Status.RUNNING, worker_host=socket.gethostname(),
                     worker_pid=2**22 + 1)  # above the kernel's default pid_max: no such process
    assert execution.execute(run.pk) is None
    run.refresh_from_db()
    assert run.status == Status.FAILED and "Worker lost" in run.error
