import json

from training.engine.__main__ import main
from tests.training.engine.conftest import SMOKE


def test_cli_trains_and_prints_json_lines(tiny_model, marker_pairs, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**SMOKE, "base_model": tiny_model, "max_steps": 2, "logging_steps": 1,
                                  "save_steps": 2}))
    assert main(["reward", "--data", str(marker_pairs), "--config", str(config), "--out", str(tmp_path / "out")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["step"] for line in lines if "loss" in line] == [1, 2]
    assert lines[-1] == {"outcome": "completed", "step": 2, "final_dir": str(tmp_path / "out" / "final")}


def test_cli_lists_config_errors_and_exits_2(marker_pairs, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"learning_rate": "fast", "max_steps": 0}))
    assert main(["dpo", "--data", str(marker_pairs), "--config", str(config), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "config error: learning_rate must be a number",
        "config error: max_steps must be -1 (train by epochs) or greater than 0",
    ]
