import pytest

from annotate.models import Snapshot
from tests.factories import ProjectFactory, RunFactory, finished_checkpoint
from training import runs
from training.engine.config import PRESETS
from training.models import Run

pytestmark = pytest.mark.django_db

Status = Run.Status


def test_launch_saves_a_queued_run_with_preset_then_overrides_and_sends_it_after_commit(
    pairs_file, django_capture_on_commit_callbacks
):
    request = runs.LaunchRequest(
        kind="reward", preset="cpu-smoke", config_overrides={"learning_rate": 0.01}, dataset_path=str(pairs_file)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        run = runs.launch(request)
    run.refresh_from_db()
    assert run.status == Status.QUEUED
    assert run.config["learning_rate"] == 0.01
    assert run.config["max_steps"] == PRESETS["reward"]["cpu-smoke"]["max_steps"]
    assert run.base_model == run.config["base_model"] == "tiny"
    assert run.output_dir.startswith(f"run-{run.pk}-")
    assert len(callbacks) == 1


def test_bad_hyperparameters_are_refused_field_by_field_and_nothing_is_saved(pairs_file):
    request = runs.LaunchRequest(
        kind="reward", dataset_path=str(pairs_file),
        config_overrides={"learning_rate": -1, "per_device_batch_size": "eight", "warmup": 3, "precision": "fp8"},
    )
    with pytest.raises(runs.LaunchError) as caught:
        runs.launch(request)
    assert set(caught.value.errors) == {"learning_rate", "per_device_batch_size", "warmup", "precision"}
    assert "greater than 0" in caught.value.errors["learning_rate"]
    assert not Run.objects.exists()


def test_ppo_cross_field_rules_are_reported(pairs_file):
    request = runs.LaunchRequest(
        kind="ppo", dataset_path=str(pairs_file), config_overrides={"rollout_batch_size": 10, "per_device_batch_size": 4}
    )
    with pytest.raises(runs.LaunchError) as caught:
        runs.launch(request)
    assert {"reward_model", "rollout_batch_size"} <= set(caught.value.errors)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"dataset_path": ""}, "dataset_path", "choose a snapshot"),
        ({"dataset_path": "/no/such/file.jsonl"}, "dataset_path", "does not exist"),
        ({"preset": "huge"}, "preset", "no preset 'huge'"),
        ({"kind": "ppo-ish"}, "kind", "unknown training kind"),
    ],
)
def test_bad_launch_fields_are_refused(pairs_file, fields, field, words):
    request = runs.LaunchRequest(**{"kind": "reward", "dataset_path": str(pairs_file), **fields})
    with pytest.raises(runs.LaunchError) as caught:
        runs.launch(request)
    assert words in caught.value.errors[field]
    assert not Run.objects.exists()


def test_ppo_takes_its_reward_model_from_a_succeeded_reward_parent(pairs_file):
    parent = RunFactory(kind="reward", status=Status.SUCCEEDED)
    run = runs.launch(runs.LaunchRequest(kind="ppo", preset="cpu-smoke", parent=parent, dataset_path=str(pairs_file)))
    assert run.config["reward_model"] == str(parent.final_model_path)
    assert run.base_model == "tiny"


def test_dpo_starts_from_its_sft_parent_model(pairs_file):
    parent = RunFactory(kind="sft", status=Status.SUCCEEDED)
    run = runs.launch(runs.LaunchRequest(kind="dpo", parent=parent, dataset_path=str(pairs_file)))
    assert run.base_model == str(parent.final_model_path)


@pytest.mark.parametrize(
    ("parent_kind", "parent_status", "kind", "words"),
    [("reward", Status.FAILED, "ppo", "has not succeeded"), ("reward", Status.SUCCEEDED, "dpo", "only be the parent of a PPO")],
)
def test_unusable_parents_are_refused(pairs_file, parent_kind, parent_status, kind, words):
    parent = RunFactory(kind=parent_kind, status=parent_status)
    with pytest.raises(runs.LaunchError) as caught:
        runs.launch(runs.LaunchRequest(kind=kind, parent=parent, dataset_path=str(pairs_file)))
    assert words in caught.value.errors["parent"]


def test_a_run_goes_queued_running_succeeded_and_then_stays():
    run = RunFactory()
    running = runs.claim(run.pk, worker_host="gpu-1", worker_pid=4242)
    assert (running.status, running.worker_host, running.worker_pid, running.attempts) == (Status.RUNNING, "gpu-1", 4242, 1)
    assert running.started_at and running.heartbeat_at
    done = runs.finish(run.pk, cancelled=False, step=60)
    assert (done.status, done.final_step) == (Status.SUCCEEDED, 60)
    assert done.finished_at
    for move in (lambda: runs.fail(run.pk, "late"), lambda: runs.finish(run.pk, cancelled=True, step=1), lambda: runs.resume(done)):
        with pytest.raises(runs.RunError):
            move()
    assert Run.objects.get(pk=run.pk).status == Status.SUCCEEDED


def test_only_a_queued_run_can_be_claimed():
    for status in (Status.RUNNING, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED):
        assert runs.claim(RunFactory(status=status).pk, worker_host="h", worker_pid=1) is None


def test_a_queued_run_cannot_jump_to_succeeded():
    with pytest.raises(runs.InvalidTransition, match="queued; it cannot become succeeded"):
        runs.finish(RunFactory().pk, cancelled=False, step=0)


def test_cancelling_a_queued_run_cancels_it_at_once():
    run = runs.request_cancel(RunFactory())
    assert run.status == Status.CANCELLED
    assert runs.claim(run.pk, worker_host="h", worker_pid=1) is None


def test_cancelling_a_running_run_asks_its_worker_to_stop():
    run = runs.request_cancel(RunFactory(status=Status.RUNNING))
    assert (run.status, run.cancel_requested) == (Status.RUNNING, True)
    assert runs.finish(run.pk, cancelled=True, step=20).status == Status.CANCELLED


def test_a_finished_run_cannot_be_cancelled():
    with pytest.raises(runs.InvalidTransition):
        runs.request_cancel(RunFactory(status=Status.SUCCEEDED))


def test_resume_requeues_a_failed_run_from_its_checkpoint(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.RUNS_DIR = tmp_path
    run = RunFactory(status=Status.FAILED, error="Worker lost", attempts=1)
    finished_checkpoint(run.output_path, 30)
    with django_capture_on_commit_callbacks() as callbacks:
        resumed = runs.resume(run)
    assert (resumed.pk, resumed.status, resumed.resume_requested, resumed.error) == (run.pk, Status.QUEUED, True, "")
    assert len(callbacks) == 1
    assert runs.claim(run.pk, worker_host="h", worker_pid=1).attempts == 2


def test_resume_without_a_checkpoint_says_to_retry(settings, tmp_path):
    settings.RUNS_DIR = tmp_path
    with pytest.raises(runs.RunError, match="no checkpoint to resume from; retry it instead"):
        runs.resume(RunFactory(status=Status.CANCELLED))


def test_a_checkpoint_left_half_written_is_not_one_to_resume_from(settings, tmp_path):
    settings.RUNS_DIR = tmp_path
    run = RunFactory(status=Status.FAILED, error="Worker lost")
    (run.output_path / "checkpoint-10").mkdir(parents=True)  # killed before trainer_state.json was written
    with pytest.raises(runs.RunError, match="no checkpoint to resume from"):
        runs.resume(run)


def test_retry_launches_a_new_run_with_the_same_inputs(pairs_file):
    old = RunFactory(status=Status.FAILED, dataset_path=str(pairs_file), config={**RunFactory.build().config, "max_steps": 7})
    new = runs.retry(old)
    assert new.pk != old.pk
    assert (new.status, new.kind, new.config, new.dataset_path) == (Status.QUEUED, old.kind, old.config, old.dataset_path)
    assert new.output_dir != old.output_dir


def test_an_active_run_cannot_be_retried():
    with pytest.raises(runs.InvalidTransition, match="cancel it before retrying"):
        runs.retry(RunFactory(status=Status.RUNNING))


def snapshot(kind="pairs", status="ready"):
    return Snapshot.objects.create(project=ProjectFactory(), kind=kind, status=status, folder="p/000001")


def test_a_run_can_train_on_a_ready_snapshot():
    ready = snapshot()
    run = runs.launch(runs.LaunchRequest(kind="reward", snapshot=ready))
    assert run.snapshot == ready and run.dataset_path == ""


@pytest.mark.parametrize(
    ("kind", "snapshot_fields", "words"),
    [
        ("reward", {"status": "running"}, "is not ready (running)"),
        ("reward", {"kind": "sft"}, "a reward run trains on a pairs snapshot; this one is sft"),
        ("sft", {"kind": "pairs"}, "a sft run trains on a sft snapshot; this one is pairs"),
    ],
)
def test_unusable_snapshots_are_refused(kind, snapshot_fields, words):
    with pytest.raises(runs.LaunchError) as caught:
        runs.launch(runs.LaunchRequest(kind=kind, snapshot=snapshot(**snapshot_fields)))
    assert words in caught.value.errors["snapshot"]


def test_a_snapshot_and_a_dataset_path_together_are_refused(pairs_file):
    with pytest.raises(runs.LaunchError) as caught:
        runs.launch(runs.LaunchRequest(kind="reward", snapshot=snapshot(), dataset_path=str(pairs_file)))
    assert caught.value.errors["dataset_path"] == "choose a snapshot or a dataset path, not both"
