import pytest
from transformers import AutoModelForCausalLM

from training.engine.reporting import MemoryReporter
from tests.training.engine.conftest import recorded_run, train


@pytest.fixture(scope="session")
def ppo_run(sft_run, reward_run, marker_pairs, tmp_path_factory):
    return recorded_run(
        "ppo", marker_pairs, tmp_path_factory.mktemp("ppo-run"),
        base_model=str(sft_run[0].final_dir), reward_model=str(reward_run[0].final_dir), use_lora=False,
        learning_rate=1e-3, max_steps=8, rollout_batch_size=32, per_device_batch_size=16, max_new_tokens=8,
        logging_steps=1, save_steps=4)


def test_ppo_raises_the_mean_reward_of_the_policy(ppo_run):
    result, reporter = ppo_run
    rewards = [reward for _, reward in reporter.series("reward_mean")]
    assert result.outcome == "completed" and len(rewards) == 8
    assert sum(rewards[-3:]) / 3 > sum(rewards[:2]) / 2 + 0.5
    for name in ("kl", "policy_loss", "value_loss", "entropy", "samples_per_second"):
        assert len(reporter.series(name)) == 8
    assert sum(" sample: 'Tell me about" in line for line in reporter.lines) == 8


def test_ppo_checkpoints_and_final_load_with_transformers(ppo_run):
    result, _ = ppo_run
    output_dir = result.final_dir.parent
    assert {path.name for path in output_dir.glob("checkpoint-*")} == {"checkpoint-4", "checkpoint-8"}
    AutoModelForCausalLM.from_pretrained(output_dir / "checkpoint-4")
    AutoModelForCausalLM.from_pretrained(result.final_dir)


def test_ppo_with_lora_cancels_with_a_checkpoint_and_resumes_to_a_merged_final(
        sft_run, reward_run, marker_pairs, tmp_path):
    settings = dict(base_model=str(sft_run[0].final_dir), reward_model=str(reward_run[0].final_dir),
                    learning_rate=1e-3, max_steps=3, rollout_batch_size=8, per_device_batch_size=8,
                    max_new_tokens=4, logging_steps=1, save_steps=100, lora_r=4)
    cancelled = train("ppo", marker_pairs, tmp_path, MemoryReporter(stop_at_step=2), **settings)
    assert (cancelled.outcome, cancelled.step, cancelled.final_dir) == ("cancelled", 2, None)
    assert (tmp_path / "checkpoint-2" / "adapter_config.json").is_file()

    reporter = MemoryReporter()
    resumed = train("ppo", marker_pairs, tmp_path, reporter, resume=True, **settings)
    assert (resumed.outcome, resumed.step) == ("completed", 3)
    assert reporter.lines[0] == "resuming from checkpoint-2"
    assert [step for step, _ in reporter.series("reward_mean")] == [3]
    assert not (resumed.final_dir / "adapter_config.json").exists()
    AutoModelForCausalLM.from_pretrained(resumed.final_dir)
