import json
import re

import pytest

from training.engine.data import DatasetError, load_splits
from training.engine.tiny import write_marker_dataset


def write_lines(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_a_snapshot_folder_gives_train_and_test_splits(tmp_path):
    folder = write_marker_dataset(tmp_path, n_train=10, n_test=4)
    splits = load_splits("dpo", folder)
    assert (len(splits.train), len(splits.test)) == (10, 4)
    assert set(splits.train[0]) == {"prompt", "chosen", "rejected"}


def test_a_single_file_has_no_test_split_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "demos.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n\n"
                    + json.dumps({"text": "plain"}) + "\n")
    splits = load_splits("sft", path)
    assert (len(splits.train), splits.test) == (2, [])


def test_reward_rows_without_a_margin_get_zero_when_others_have_one(tmp_path):
    path = write_lines(tmp_path / "pairs.jsonl", [
        {"prompt": "p", "chosen": "a", "rejected": "b", "margin": 2},
        {"prompt": "p", "chosen": "a", "rejected": "b"},
    ])
    assert [row["margin"] for row in load_splits("reward", path).train] == [2.0, 0.0]
    assert "margin" not in load_splits("dpo", path).train[1]


@pytest.mark.parametrize("content, message", [
    ("", "has no rows"),
    ("[1, 2]\n", "line 1: expected a JSON object"),
    ('{"prompt": "p"}\n', "row 1: a sft run needs the columns prompt+completion or messages or text"),
])
def test_unusable_files_are_refused_with_the_place_and_the_reason(tmp_path, content, message):
    path = tmp_path / "data.jsonl"
    path.write_text(content)
    with pytest.raises(DatasetError, match=re.escape(message)):
        load_splits("sft", path)


def test_a_folder_without_train_jsonl_is_not_a_snapshot(tmp_path):
    with pytest.raises(DatasetError, match="is not a snapshot folder"):
        load_splits("reward", tmp_path)
