"""Reading training data: a .jsonl file or a snapshot folder (jsonl/train.jsonl + jsonl/test.jsonl)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# kind -> the row shapes it accepts (any one of them; columns of each shape are all required)
ROW_SHAPES = {
    "reward": (("chosen", "rejected"),),
    "dpo": (("chosen", "rejected"),),
    "ppo": (("prompt",),),
    "sft": (("prompt", "completion"), ("messages",), ("text",)),
}


class DatasetError(ValueError):
    """The training data cannot be used; the message says where and why."""


@dataclass
class Splits:
    train: list[dict]
    test: list[dict]  # empty when the data has no test split (a single .jsonl file)


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{path}, line {number}: not valid JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise DatasetError(f"{path}, line {number}: expected a JSON object")
            rows.append(row)
    return rows


def _check_rows(kind: str, rows: list[dict], source: Path) -> None:
    if not rows:
        raise DatasetError(f"{source} has no rows")
    shapes = ROW_SHAPES[kind]
    for number, row in enumerate(rows, start=1):
        if not any(all(column in row for column in shape) for shape in shapes):
            wanted = " or ".join("+".join(shape) for shape in shapes)
            raise DatasetError(f"{source}, row {number}: a {kind} run needs the columns {wanted}")


def _fill_margins(rows: list[dict]) -> None:
    """The reward loss subtracts `margin` when the column exists; rows without one get 0."""
    if any("margin" in row for row in rows):
        for row in rows:
            row["margin"] = float(row.get("margin") or 0.0)


def load_splits(kind: str, dataset_path) -> Splits:
    path = Path(dataset_path)
    if path.is_dir():
        train_path, test_path = path / "jsonl" / "train.jsonl", path / "jsonl" / "test.jsonl"
        if not train_path.is_file():
            raise DatasetError(f"{path} is not a snapshot folder: {train_path} is missing")
        train = read_jsonl(train_path)
        test = read_jsonl(test_path) if test_path.is_file() else []
    elif path.is_file():
        train_path, train, test = path, read_jsonl(path), []
    else:
        raise DatasetError(f"no dataset at {path}")
    _check_rows(kind, train, train_path)
    if test:
        _check_rows(kind, test, test_path)
    if kind == "reward":
        _fill_margins(train)
        _fill_margins(test)
    return Splits(train=train, test=test)
