"""Importing items from files: one service for the admin upload page, the `import_items` command and the API."""
from .formats import FORMATS
from .importer import import_items
from .report import ImportReport, LineError
from .writer import ON_DUPLICATE

__all__ = ["FORMATS", "ON_DUPLICATE", "ImportReport", "LineError", "import_items"]
