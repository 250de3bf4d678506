import json

import pytest


@pytest.fixture
def pairs_file(tmp_path):
    """A one-row preference file: enough for launch validation, which only checks that it exists."""
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"prompt": "2+2?", "chosen": "4", "rejected": "5"}) + "\n")
    return path
