"""Every file format reads back, with the libraries people use, as the same rows as the JSONL."""
import json

import datasets
import pandas
import pyarrow.parquet as pq
import pytest

from annotate.export import create_snapshot
from annotate.exporting import writers
from annotate.models import TaskMode
from tests.factories import ItemFactory, ProjectFactory, annotators_of, judgement_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    # Fixed names: the split hashes them, and both splits must hold rows whatever ran before.
    project = ProjectFactory(slug="fmt", task_mode=TaskMode.RANKING)
    users = annotators_of(project, 2)
    for n in range(6):
        prompt = f"Plain question {n}?" if n % 2 else [{"role": "user", "content": f"Chat question {n}?"}]
        item = ItemFactory(project=project, external_id=f"formats-{n}", prompt=prompt)
        for user, ranks in zip(users, ([1, 2, 3, 4], [1, 3, 2, 4])):
            judgement_of(item, user, ranks=ranks)
    return project


def jsonl_rows(snapshot, split):
    return [json.loads(line) for line in (snapshot.path / "jsonl" / f"{split}.jsonl").read_text().splitlines()]


def records(frame: pandas.DataFrame) -> list[dict]:
    """DataFrame rows as plain values (numpy arrays of messages become lists)."""
    return [{name: plain(value) for name, value in row.items()} for row in frame.to_dict("records")]


def plain(value):
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if hasattr(value, "tolist"):
        return plain(value.tolist()) if isinstance(value.tolist(), list) else value.tolist()
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@pytest.mark.parametrize(
    "options",
    [
        {"format": "standard"},
        {"format": "conversational", "include_agreement": True},
        {"kind": "sft", "format": "standard"},
        {"kind": "sft", "format": "conversational", "mode": "consensus"},
    ],
)
def test_each_format_reads_back_as_the_jsonl_rows(project, options, tmp_path):
    snapshot = create_snapshot(project, options={"test_fraction": 0.4, **options})
    hf = datasets.load_from_disk(str(snapshot.path / "hf"))
    for split in ("train", "test"):
        expected = jsonl_rows(snapshot, split)
        assert len(expected) == snapshot.counts["rows"][split] > 0
        from_json = datasets.load_dataset(
            "json", data_files=str(snapshot.path / "jsonl" / f"{split}.jsonl"), split="train", cache_dir=str(tmp_path / "cache")
        )
        assert from_json.to_list() == expected
        assert hf[split].to_list() == expected
        assert records(pandas.read_parquet(snapshot.path / "parquet" / f"{split}.parquet")) == expected
        assert records(pandas.read_json(snapshot.path / "jsonl" / f"{split}.jsonl", lines=True, precise_float=True)) == expected


def test_rows_cross_chunk_boundaries_in_order_and_bytes_stay_stable(project, monkeypatch):
    monkeypatch.setattr(writers, "CHUNK_ROWS", 7)
    first = create_snapshot(project, options={"test_fraction": 0.0})
    assert pq.ParquetFile(first.path / "parquet" / "train.parquet").num_row_groups > 1
    expected = jsonl_rows(first, "train")
    assert pandas.read_parquet(first.path / "parquet" / "train.parquet").to_dict("records") == expected
    assert datasets.load_from_disk(str(first.path / "hf"))["train"].to_list() == expected
    assert create_snapshot(project, options={"test_fraction": 0.0}).sha256 == first.sha256


def test_an_empty_split_is_an_empty_file_and_absent_from_the_hf_folder(project):
    snapshot = create_snapshot(project, options={"test_fraction": 0.0})
    assert (snapshot.path / "jsonl" / "test.jsonl").read_text() == ""
    assert len(pandas.read_parquet(snapshot.path / "parquet" / "test.parquet")) == 0
    assert list(datasets.load_from_disk(str(snapshot.path / "hf"))) == ["train"]
