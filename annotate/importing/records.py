"""Reading an import file as numbered records: JSON lines, a JSON array or CSV, any of them gzipped.

JSON lines and CSV are read a line at a time; a JSON array is read whole (it cannot be parsed
otherwise) and cut into records with their starting line numbers. Every problem becomes a
LineError with the line it was found on, so that one pass reports all of them.
"""
import csv
import gzip
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from .report import LineError

GZIP_MAGIC = b"\x1f\x8b"
BOM = "\ufeff"
SNIFF_BYTES = 64 * 1024
CSV_FIXED_COLUMNS = {"id", "prompt", "metadata", "gold_answer"}
CSV_NUMBERED_COLUMN = re.compile(r"(response|model)_([1-9][0-9]*)")
CSV_JSON_COLUMNS = ("metadata", "gold_answer")


class FileRejected(Exception):
    """The file as a whole cannot be read: missing, too large, or not a file at all."""


@dataclass(frozen=True)
class Record:
    line: int
    data: object


@contextmanager
def opened(source: str | os.PathLike | BinaryIO) -> Iterator[tuple[BinaryIO, str]]:
    """The source's bytes, gunzipped where needed, and its file name without `.gz`.

    `source` is a path or a seekable binary file (an upload). Its size is checked against
    settings.IMPORT_MAX_BYTES before anything is parsed; a gzipped file is also stopped as
    soon as it expands past that limit.
    """
    limit = settings.IMPORT_MAX_BYTES
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileRejected(f"{path} is not a readable file")
        stream, name, owned = path.open("rb"), path.name, True
    else:
        stream, name, owned = source, Path(getattr(source, "name", "") or "").name, False
    try:
        size = stream.seek(0, os.SEEK_END)
        stream.seek(0)
        if size > limit:
            raise FileRejected(f"the file is {size:,} bytes; the limit is {limit:,} (IMPORT_MAX_BYTES)")
        if stream.read(2) == GZIP_MAGIC:
            stream.seek(0)
            yield _CappedReader(gzip.GzipFile(fileobj=stream, mode="rb"), limit), name.removesuffix(".gz")
        else:
            stream.seek(0)
            yield stream, name
    finally:
        if owned:
            stream.close()


class _CappedReader:
    """A gunzipped stream that refuses to expand past the size limit."""

    def __init__(self, stream: gzip.GzipFile, limit: int):
        self.stream, self.limit, self.total = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        return self._count(self.stream.read(self.limit + 1 - self.total if size < 0 else size))

    def readline(self) -> bytes:
        return self._count(self.stream.readline(self.limit + 1 - self.total))

    def seek(self, offset: int) -> None:
        self.stream.seek(offset)
        self.total = offset

    def _count(self, data: bytes) -> bytes:
        self.total += len(data)
        if self.total > self.limit:
            raise FileRejected(f"the file expands to more than {self.limit:,} bytes (IMPORT_MAX_BYTES) when unzipped")
        return data


def container_of(stream: BinaryIO, name: str) -> str:
    """"csv" by extension; otherwise "json" for a file that opens with `[`, else "jsonl"."""
    if name.lower().endswith(".csv"):
        return "csv"
    head = stream.read(SNIFF_BYTES).decode("utf-8", errors="replace").lstrip(BOM + " \t\r\n")
    stream.seek(0)
    return "json" if head.startswith("[") else "jsonl"


def read_records(stream: BinaryIO, container: str) -> Iterator[Record | LineError]:
    return {"jsonl": _jsonl_records, "json": _json_array_records, "csv": _csv_records}[container](stream)


def _lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(iter(stream.readline, b""), start=1):
        yield number, raw.removeprefix(BOM.encode()) if number == 1 else raw


def _encoding_error(line: int, error: UnicodeDecodeError, line_start: int = 0) -> LineError:
    bad = error.object[error.start:error.end].hex(" ")
    column = error.start - line_start + 1
    return LineError(line, "encoding", f"is not valid UTF-8 (byte(s) {bad} at byte {column} of the line)")


def _jsonl_records(stream: BinaryIO) -> Iterator[Record | LineError]:
    for number, raw in _lines(stream):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield _encoding_error(number, error)
            continue
        if not text.strip():
            continue
        try:
            yield Record(number, json.loads(text))
        except json.JSONDecodeError as error:
            yield LineError(number, "json", f"is not valid JSON: {error.msg} (column {error.colno})")


def _json_array_records(stream: BinaryIO) -> Iterator[Record | LineError]:
    data = stream.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # Offsets are into error.object: the bytes after any byte order mark.
        line_start = error.object.rfind(b"\n", 0, error.start) + 1
        yield _encoding_error(error.object.count(b"\n", 0, error.start) + 1, error, line_start)
        return
    del data
    decoder = json.JSONDecoder()
    position = _skip_space(text, _skip_space(text, 0) + 1)  # past the "[" that container_of saw first
    line, counted_to = 1, 0
    while not text.startswith("]", position):
        line += text.count("\n", counted_to, position)
        counted_to = position
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            yield LineError(error.lineno, "json", f"is not valid JSON: {error.msg} (column {error.colno})")
            return
        yield Record(line, value)
        position = _skip_space(text, end)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
        elif not text.startswith("]", position):
            yield LineError(_line_at(text, position), "json", "expected ',' or ']' after an item")
            return
    if _skip_space(text, position + 1) != len(text):
        yield LineError(_line_at(text, position), "json", "unexpected content after the closing ']'")


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _csv_records(stream: BinaryIO) -> Iterator[Record | LineError]:
    """Rows of a CSV file with a header, shaped as native records (see `formats.native`)."""
    encoding_errors: list[LineError] = []

    def decoded_lines() -> Iterator[str]:
        for number, raw in _lines(stream):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                encoding_errors.append(_encoding_error(number, error))
                yield raw.decode("utf-8", errors="replace")

    # A long response is one cell; the file's size limit is the only bound it needs.
    csv.field_size_limit(max(csv.field_size_limit(), settings.IMPORT_MAX_BYTES))
    reader = csv.reader(decoded_lines())
    try:
        header = [name.strip() for name in next(reader, [])]
        header_error = _csv_header_error(header)
        if encoding_errors or header_error:
            yield from encoding_errors or [LineError(1, "header", header_error)]
            return
        first_line = reader.line_num + 1
        for cells in reader:
            if encoding_errors:
                yield from encoding_errors
                encoding_errors.clear()
            elif cells:
                yield _csv_record(first_line, header, cells)
            first_line = reader.line_num + 1
    except csv.Error as error:
        yield LineError(reader.line_num, "csv", str(error))


def _csv_header_error(header: list[str]) -> str | None:
    if "prompt" not in header:
        return "the header has no 'prompt' column"
    unknown = [name for name in header if name not in CSV_FIXED_COLUMNS and not CSV_NUMBERED_COLUMN.fullmatch(name)]
    if unknown:
        return (
            f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are id, prompt, response_1..response_N, "
            "model_1..model_N, metadata (a JSON object) and gold_answer (a JSON list)"
        )
    if len(set(header)) != len(header):
        return "a column name appears twice"
    models_without_response = [n for n in header if n.startswith("model_") and "response_" + n[6:] not in header]
    if models_without_response:
        return f"column(s) {', '.join(models_without_response)} have no matching response_N column"
    return None


def _csv_record(line: int, header: list[str], cells: list[str]) -> Record | LineError:
    if len(cells) > len(header):
        return LineError(line, "csv", f"has {len(cells)} cells but the header has {len(header)} columns")
    row = {name: cell for name, cell in zip(header, cells) if cell != ""}
    record = {key: row[key] for key in ("id", "prompt") if key in row}
    for key in CSV_JSON_COLUMNS:
        if key in row:
            try:
                record[key] = json.loads(row[key])
            except json.JSONDecodeError as error:
                return LineError(line, key, f"is not valid JSON: {error.msg}")
    numbers = sorted(int(name[9:]) for name in header if name.startswith("response_"))
    filled = [n for n in numbers if f"response_{n}" in row]
    if filled and filled != numbers[: len(filled)]:
        gap = next(n for n in numbers if n not in filled)
        return LineError(line, f"response_{gap}", f"is empty but response_{filled[-1]} is not")
    record["responses"] = [{"text": row[f"response_{n}"], "model": row.get(f"model_{n}")} for n in filled]
    return Record(line, record)
