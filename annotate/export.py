"""The export service's public face (the name other apps import); the work is in `annotate.exporting`."""
from .exporting.options import ExportOptions, ExportOptionsError
from .exporting.snapshot import SnapshotError, build_snapshot, create_snapshot, queue_snapshot

__all__ = ["ExportOptions", "ExportOptionsError", "SnapshotError", "build_snapshot", "create_snapshot", "queue_snapshot"]
