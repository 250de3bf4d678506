"""Chunked writers for a snapshot's files: JSONL, Parquet, and a Hugging Face `datasets` folder.

Each writer takes ItemRows as they stream in and keeps at most one chunk of rows in memory.
Bytes are deterministic for the same rows: JSONL trivially; Parquet and the Arrow files under
hf/ because row groups and batches are cut at the same row counts and no timestamp is written;
hf/state.json's fingerprint is set to the hash of the Arrow data rather than left random.
"""
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .manifest import file_sha256

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
        self._files = {split: open(folder / f"{split}.jsonl", "w", encoding="utf-8", newline="\n") for split in SPLITS}

    def write(self, rows) -> None:
        self._files[rows.split].writelines(rows.json_lines())

    def close(self) -> None:
        for file in self._files.values():
            file.close()


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
        columns = list(zip(*pending)) if pending else [[] for _ in self._schema.names]
        self._write(split, pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, self._schema)], schema=self._schema))
        pending.clear()

    def close(self) -> None:
        for split in SPLITS:
            if self._pending[split]:
                self._flush(split)

    def _write(self, split: str, table: pa.Table) -> None:
        raise NotImplementedError


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
    """Streams Arrow batches to a scratch file per split, then `DatasetDict.save_to_disk` over memory maps."""

    def __init__(self, root: Path, layout):
        import datasets  # noqa: F401  (the `train` extra): fail before any work when it is missing

        super().__init__(layout)
        self._root = root
        self._scratch = root / "hf-scratch"
        self._scratch.mkdir(parents=True)
        self._streams = {split: pa.ipc.new_stream(str(self._scratch / f"{split}.arrow"), self._schema) for split in SPLITS}

    def _write(self, split: str, table: pa.Table) -> None:
        self._streams[split].write_table(table, max_chunksize=CHUNK_ROWS)

    def close(self) -> None:
        import datasets
        from datasets.table import MemoryMappedTable

        super().close()
        datasets.disable_progress_bars()  # a worker's log is no terminal; the snapshot row shows progress
        for stream in self._streams.values():
            stream.close()
        splits = {}
        for split in SPLITS:
            path = self._scratch / f"{split}.arrow"
            table = MemoryMappedTable.from_file(str(path))
            # datasets cannot load back an empty split it saved, so an empty split is left out of hf/.
            if table.num_rows:
                splits[split] = datasets.Dataset(table, split=split, fingerprint=file_sha256(path)[:16])
        datasets.DatasetDict(splits).save_to_disk(str(self._root / "hf"))
        del splits
        shutil.rmtree(self._scratch)


WRITERS = {"jsonl": JsonlWriter, "parquet": ParquetWriter, "hf": HfWriter}

