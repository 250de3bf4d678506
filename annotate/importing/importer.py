"""Import a file of items into a project: all of it, or, when any line is bad, none of it."""
import os
from collections.abc import Iterator
from typing import BinaryIO

from django.db import transaction

from annotate.models import Project

from .drafts import AUTO_ID_PREFIX, ItemDraft, RecordError
from .formats import CONVERTERS, FORMATS, detect
from .records import FileRejected, container_of, opened, read_records
from .report import ImportReport, LineError
from .rules import check_item
from .writer import ON_DUPLICATE, ItemWriter


class _RollBack(Exception):
    """Leaves the import's transaction without saving: a dry run, or a file with bad lines."""


def import_items(
    project: Project,
    source: str | os.PathLike | BinaryIO,
    format: str = "auto",
    on_duplicate: str = "reject",
    dry_run: bool = False,
) -> ImportReport:
    """Read `source` (a path or a seekable binary file) and add its items to `project`.

    `format` is one of FORMATS ("auto" tells it from the file). Items whose id already
    exists in the project are rejected (an error), skipped, or updated, by `on_duplicate`.
    A dry run reads, checks and writes everything, then rolls back. The report lists every
    bad line; when there is one, nothing is saved.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"unknown on_duplicate {on_duplicate!r}; choose one of {', '.join(ON_DUPLICATE)}")
    report = ImportReport(format="" if format == "auto" else format, dry_run=dry_run)
    try:
        with opened(source) as (stream, name), transaction.atomic():
            writer = ItemWriter(project, on_duplicate, report)
            drafts_read = 0
            for draft in _drafts(stream, name, project, report):
                writer.add(draft)
                drafts_read += 1
            writer.flush()
            if not drafts_read and report.ok:
                report.errors.append(LineError(None, "file", "holds no items"))
            if not report.saved:
                raise _RollBack
    except FileRejected as error:
        report.errors.append(LineError(None, "file", str(error)))
    except _RollBack:
        pass
    return report


def _drafts(stream: BinaryIO, name: str, project: Project, report: ImportReport) -> Iterator[ItemDraft]:
    """Valid drafts, in file order; every bad record goes into the report instead."""
    report.container = container_of(stream, name)
    if report.container == "csv" and report.format not in ("", "native"):
        raise FileRejected(f"a CSV file holds the native format, not {report.format}")
    convert = CONVERTERS.get(report.format)
    first_line_of: dict[str, int] = {}
    for record in read_records(stream, report.container):
        if isinstance(record, LineError):
            report.errors.append(record)
            continue
        try:
            if convert is None:
                report.format = detect(record)
                convert = CONVERTERS[report.format]
            for draft in convert(record, report.notes):
                check_item(draft, project)
                if draft.external_id in first_line_of:
                    raise RecordError("id", _repeated_id(draft, first_line_of[draft.external_id]))
                first_line_of[draft.external_id] = draft.line
                yield draft
        except RecordError as error:
            report.errors.append(LineError(record.line, error.field, error.message))


def _repeated_id(draft: ItemDraft, first_line: int) -> str:
    if draft.external_id.startswith(AUTO_ID_PREFIX):
        return f"this item has no id and the same prompt and responses as line {first_line}"
    return f"'{draft.external_id}' is already used on line {first_line}"
