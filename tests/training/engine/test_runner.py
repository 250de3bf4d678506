import json

import pytest

from training.engine.config import ConfigError
from training.engine.data import DatasetError
from training.engine.reporting import MemoryReporter
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
