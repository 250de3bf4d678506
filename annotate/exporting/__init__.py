"""Export snapshots: judgements -> TRL preference pairs or SFT rows, as JSONL, Parquet and HF folders."""
from .options import ExportOptions, ExportOptionsError
from .snapshot import SnapshotError, build_snapshot, create_snapshot, queue_snapshot

__all__ = ["ExportOptions", "ExportOptionsError", "SnapshotError", "build_snapshot", "create_snapshot", "queue_snapshot"]
