"""Chunked writers for a snapshot's files: JSONL, Parquet, and a Hugging Face `datasets` folder.

Each writer takes ItemRows as they stream in and keeps at most one chunk of rows in memory.
Bytes are deterministic for the same rows: JSONL trivially; Parquet and the Arrow files under
hf/ because row groups and batches are cut at the same row counts and no timestamp is written;
hf/*/state.json's fingerprint is the hash of the Arrow data rather than a random one.
"""
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .manifest import HashedFile, file_sha256

SPLITS = ("train", "test")
CHUNK_ROWS = 50_000
MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


def arrow_schema(layout) -> pa.Schema:
    text = MESSAGES if layout.conversational else pa.string()
    return pa.schema(
        [("prompt", text), *((name, text) for name in layout.text_columns), *((name, pa.float64()) for name in layout.number_columns)]
    )


class JsonlWriter:
    def __init__(self, root: Path, layout):
        folder = root / "jsonl"
        folder.mkdir(parents=True)
        self._files = {split: HashedFile(folder / f"{split}.jsonl", root) for split in SPLITS}

    def write(self, rows) -> None:
        # UTF-8 lines; one write per item, as joining them is cheaper than writing each.
        self._files[rows.split].write(b"".join(rows.json_lines()))

    def close(self) -> None:
        for file in self._files.values():
            file.close()

    def file_hashes(self) -> dict[str, dict]:
        return dict(file.entry() for file in self._files.values())


class _ColumnarWriter:
    """Collects column values per split and hands full chunks, as Arrow tables, to `_write`."""

    def __init__(self, layout):
        self._schema = arrow_schema(layout)
        self._pending = {split: [] for split in SPLITS}

    def write(self, rows) -> None:
        pending = self._pending[rows.split]
        pending.extend(rows.records())
        if len(pending) >= CHUNK_ROWS:
            self._flush(rows.split)

    def _flush(self, split: str) -> None:
        pending = self._pending[split]
        columns = list(zip(*pending))  # only flushed with rows pending
        self._write(split, pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, self._schema)], schema=self._schema))
        pending.clear()

    def close(self) -> None:
        for split in SPLITS:
            if self._pending[split]:
                self._flush(split)

    def _write(self, split: str, table: pa.Table) -> None:
        raise NotImplementedError

    def file_hashes(self) -> dict[str, dict]:
        return {}  # pyarrow writes these files: the manifest reads them back to hash them


class ParquetWriter(_ColumnarWriter):
    def __init__(self, root: Path, layout):
        super().__init__(layout)
        folder = root / "parquet"
        folder.mkdir(parents=True)
        self._writers = {split: pq.ParquetWriter(folder / f"{split}.parquet", self._schema) for split in SPLITS}

    def _write(self, split: str, table: pa.Table) -> None:
        self._writers[split].write_table(table, row_group_size=CHUNK_ROWS)

    def close(self) -> None:
        super().close()
        for writer in self._writers.values():
            writer.close()


class HfWriter(_ColumnarWriter):
    """A `datasets` folder as `DatasetDict.save_to_disk` lays it out, written as the rows stream in.

    save_to_disk would read the whole dataset back through a memory map, and the mapped pages
    count as this process's memory: gigabytes for a large export. So each split's one shard is
    written by datasets' own ArrowWriter, and the small JSON files beside it as save_to_disk
    writes them (a test checks the folder is byte for byte what save_to_disk makes).
    """

    SHARD = "data-00000-of-00001.arrow"

    def __init__(self, root: Path, layout):
        from datasets import Features
        from datasets.arrow_writer import ArrowWriter  # the `train` extra: fail before any work when missing

        super().__init__(layout)
        self._root = root
        self._folder = root / "hf"
        self._hashes = {}
        self._features = Features.from_arrow_schema(self._schema)
        self._writers = {}
        for split in SPLITS:
            (self._folder / split).mkdir(parents=True)
            self._writers[split] = ArrowWriter(features=self._features, path=str(self._folder / split / self.SHARD))

    def _write(self, split: str, table: pa.Table) -> None:
        self._writers[split].write_table(table)

    def close(self) -> None:
        super().close()
        written = []
        for split, writer in self._writers.items():
            rows, _ = writer.finalize()
            writer.close()
            # datasets cannot load back an empty split it saved, so an empty split is left out.
            if rows:
                self._write_split_metadata(split)
                written.append(split)
            else:
                shutil.rmtree(self._folder / split)
        (self._folder / "dataset_dict.json").write_text(json.dumps({"splits": written}), encoding="utf-8")

    def _write_split_metadata(self, split: str) -> None:
        from datasets import DatasetInfo
        from datasets.utils.py_utils import asdict  # save_to_disk's own: it leaves out empty fields

        folder = self._folder / split
        shard = folder / self.SHARD
        sha256 = file_sha256(shard)
        # Kept for the manifest too: the shard is the big file, and it is final by now.
        self._hashes[shard.relative_to(self._root).as_posix()] = {"sha256": sha256, "bytes": shard.stat().st_size}
        state = {
            "_data_files": [{"filename": self.SHARD}],
            "_fingerprint": sha256[:16],
            "_format_columns": None,
            "_format_kwargs": {},
            "_format_type": None,
            "_output_all_columns": False,
            "_split": split,
        }
        (folder / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        info = asdict(DatasetInfo(features=self._features))
        (folder / "dataset_info.json").write_text(json.dumps({key: info[key] for key in sorted(info)}, indent=2), encoding="utf-8")

    def file_hashes(self) -> dict[str, dict]:
        return self._hashes


WRITERS = {"jsonl": JsonlWriter, "parquet": ParquetWriter, "hf": HfWriter}

