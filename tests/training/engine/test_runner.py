import json

import pytest

from training.engine.config import ConfigError
from training.engine.data import DatasetError
from training.engine.reporting import MemoryReporter
from training.engine.tiny import marker_pairs
from tests.training.engine.conftest import train


def test_cancel_stops_at_a_logging_step_with_a_checkpoint_and_resume_finishes(tiny_model, marker_pairs, tmp_path):
    cancelled = train("reward", marker_pairs, tmp_path, MemoryReporter(stop_at_step=10), base_model=tiny_model,
                      learning_rate=1e-3, max_steps=20, logging_steps=5, save_steps=100)
    assert (cancelled.outcome, cancelled.step, cancelled.final_dir) == ("cancelled", 10, None)
    assert (tmp_path / "checkpoint-10").is_dir()

    reporter = MemoryReporter()
    resumed = train("reward", marker_pairs, tmp_path, reporter, resume=True, base_model=tiny_model,
                    learning_rate=1e-3, max_steps=20, logging_steps=5, save_steps=100)
    assert resumed.outcome == "completed" and resumed.step == 20
    assert reporter.lines[0] == "resuming from checkpoint-10"
    assert [step for step, _ in reporter.series("loss")] == [15, 20]
    assert (resumed.final_dir / "config.json").is_file()


def test_bad_config_and_bad_data_fail_before_training(tiny_model, tmp_path):
    with pytest.raises(ConfigError) as caught:
        train("sft", tmp_path / "missing.jsonl", tmp_path, learning_rate=-1)
    assert set(caught.value.errors) == {"learning_rate"}

    with pytest.raises(DatasetError, match="no dataset at"):
        train("sft", tmp_path / "missing.jsonl", tmp_path, base_model=tiny_model)

    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"prompt": "a", "chosen": "b"}) + "\n{oops\n")
    with pytest.raises(DatasetError, match="line 2: not valid JSON"):
        train("reward", broken, tmp_path, base_model=tiny_model)
    broken.write_text(json.dumps({"prompt": "a", "chosen": "b"}) + "\n")
    with pytest.raises(DatasetError, match="row 1: a reward run needs the columns chosen\\+rejected"):
        train("reward", broken, tmp_path, base_model=tiny_model)
    assert not list(tmp_path.glob("checkpoint-*"))


def test_conversational_rows_train_a_reward_model_and_ppo(tiny_model, reward_run, tmp_path):
    rows = [{"prompt": [{"role": "user", "content": row["prompt"]}],
             "chosen": [{"role": "assistant", "content": row["chosen"]}],
             "rejected": [{"role": "assistant", "content": row["rejected"]}]} for row in marker_pairs(32)]
    data = tmp_path / "chat.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))

    reward = train("reward", data, tmp_path / "reward", base_model=tiny_model, max_steps=2, save_steps=2)
    assert reward.outcome == "completed"
    reporter = MemoryReporter()
    ppo = train("ppo", data, tmp_path / "ppo", reporter, base_model=tiny_model,
                reward_model=str(reward_run[0].final_dir), num_train_epochs=0.5, rollout_batch_size=8,
                per_device_batch_size=8, max_new_tokens=4, logging_steps=1, save_steps=1)
    assert (ppo.outcome, ppo.step) == ("completed", 2)  # half an epoch of 32 prompts, 8 per step
    assert "<|user|>\\nTell me about" in reporter.lines[0]  # the chat template was applied


def test_reward_pairs_with_margins_train(tiny_model, tmp_path):
    rows = [{**row, "margin": float(number % 3)} for number, row in enumerate(marker_pairs(32))]
    data = tmp_path / "margins.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = train("reward", data, tmp_path / "out", base_model=tiny_model, max_steps=2, save_steps=2,
                   logging_steps=1)
    assert result.outcome == "completed" and result.metrics["loss"] > 0
