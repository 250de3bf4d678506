"""The whole loop on the CPU: import a learnable preference set, judge it through the queue with
simulated annotators, snapshot it, then train SFT, a reward model, DPO and PPO through a real worker.

The task: every item has two responses of equal length, one of which contains the word
"banana"; honest annotators prefer that one. A model can only rank them by learning the marker.
"""
import time

import pytest
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

from annotate.export import create_snapshot
from annotate.models import Project, TaskMode
from tests.factories import annotators_of
from training import runs
from training.demo import import_marker_items, judge_by_marker
from training.models import Run

pytestmark = [pytest.mark.worker, pytest.mark.slow]

Status = Run.Status
ITEMS = 200
SMALL = {"base_model": "tiny", "per_device_batch_size": 16, "max_length": 64, "precision": "fp32", "logging_steps": 5}


@pytest.fixture
def worker_env(settings, tmp_path):
    settings.RUNS_DIR = tmp_path / "runs"
    settings.SNAPSHOT_DIR = tmp_path / "snapshots"
    return {"PREFSTACK_RUNS_DIR": str(settings.RUNS_DIR), "PREFSTACK_SNAPSHOT_DIR": str(settings.SNAPSHOT_DIR)}


def judged_project() -> Project:
    """ITEMS marker items, each judged by two of three honest annotators through the queue."""
    project = Project.objects.create(name="Marker", slug="marker", task_mode=TaskMode.PAIRWISE, allow_ties=False, overlap=2)
    import_marker_items(project, ITEMS, seed=7)
    judge_by_marker(project, annotators_of(project, 3))
    assert project.items.filter(judgement_count=2).count() == ITEMS
    return project


def launch(kind: str, snapshot, **fields) -> Run:
    config = {**SMALL, **fields.pop("config", {})}
    return runs.launch(runs.LaunchRequest(kind=kind, snapshot=snapshot, config_overrides=config, **fields))


def wait_until_finished(run: Run, timeout: float = 240) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if not run.is_active:
            assert run.status == Status.SUCCEEDED, f"{run} {run.status}: {run.error}\n{run.log_tail}"
            return run
        time.sleep(0.2)
    raise AssertionError(f"{run} still {run.status} after {timeout} s\n{run.log_tail}")


def series(run: Run, name: str) -> list[float]:
    return [values[name] for values in run.metrics.order_by("step").values_list("values", flat=True) if name in values]


def falls(values: list[float]) -> bool:
    return len(values) >= 2 and values[-1] < values[0]


def test_judged_data_trains_sft_reward_dpo_and_ppo_through_the_worker(celery_workers, worker_env, tmp_path):
    project = judged_project()
    options = {"test_fraction": 0.2, "file_formats": ["jsonl"]}  # what training reads
    pairs = create_snapshot(project, kind="pairs", options={**options, "mode": "consensus"})
    demonstrations = create_snapshot(project, kind="sft", options=options)
    assert pairs.counts and demonstrations.counts
    celery_workers(**worker_env)

    sft = launch("sft", demonstrations, config={"learning_rate": 5e-3, "max_steps": 40, "save_steps": 40})
    reward = launch("reward", pairs, config={"learning_rate": 1e-3, "max_steps": 40, "save_steps": 20})
    dpo = launch("dpo", pairs, config={"learning_rate": 1e-3, "max_steps": 15, "save_steps": 15})

    sft, reward = wait_until_finished(sft), wait_until_finished(reward)
    ppo = launch(
        "ppo", pairs, parent=reward, base_model=str(sft.final_model_path),
        config={"use_lora": False, "learning_rate": 1e-3, "max_steps": 8, "rollout_batch_size": 32,
                "max_new_tokens": 8, "logging_steps": 1, "save_steps": 4},
    )
    dpo, ppo = wait_until_finished(dpo), wait_until_finished(ppo)

    assert falls(series(sft, "loss")) and falls(series(dpo, "loss"))
    assert series(reward, "eval_accuracy")[-1] >= 0.9
    rewards = series(ppo, "reward_mean")
    assert len(rewards) == 8 and sum(rewards[-3:]) / 3 > sum(rewards[:2]) / 2
    assert ppo.config["reward_model"] == str(reward.final_model_path)
    assert " sample: " in ppo.log_tail

    AutoModelForSequenceClassification.from_pretrained(reward.final_model_path)
    for run in (sft, dpo, ppo):
        AutoModelForCausalLM.from_pretrained(run.final_model_path)
