"""What a snapshot exports: one dataclass, validated, stored as JSON in the Snapshot row and manifest."""
from dataclasses import asdict, dataclass, field, fields

KINDS = ("pairs", "sft")
MODES = ("per_annotator", "consensus")
TIES = ("drop", "keep")
FORMATS = ("standard", "conversational")
FILE_FORMATS = ("jsonl", "parquet", "hf")


class ExportOptionsError(ValueError):
    """Bad export options; `.errors` maps each bad field to a sentence."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class ExportOptions:
    kind: str = "pairs"
    # per_annotator: one row per judgement pair; consensus: one row per (item, response pair).
    mode: str = "per_annotator"
    # A tie (equal ranks, or ratings closer than rating_gap) is dropped, or kept with margin 0.
    ties: str = "drop"
    rating_gap: float = 1.0
    format: str = "standard"
    include_margin: bool = True
    # Consensus rows (and per-annotator rows when min_agreement > 0) carry their agreement level.
    include_agreement: bool = False
    exclude_suspended: bool = True
    # Membership.exclude_from_exports is always honoured; this adds the project admins' flags.
    exclude_flagged: bool = False
    exclude_gold: bool = True
    min_agreement: float = 0.0
    deduplicate: bool = False
    test_fraction: float = 0.1
    split_seed: str = "0"
    # Extra projects exported with the snapshot's own (their ids); the hash covers them all.
    project_ids: tuple[int, ...] = field(default_factory=tuple)
    file_formats: tuple[str, ...] = FILE_FORMATS

    def __post_init__(self):
        errors = {}
        for name, allowed in (("kind", KINDS), ("mode", MODES), ("ties", TIES), ("format", FORMATS)):
            if getattr(self, name) not in allowed:
                errors[name] = f"must be one of {', '.join(allowed)}, not {getattr(self, name)!r}"
        if not _is_number(self.rating_gap) or self.rating_gap <= 0:
            errors["rating_gap"] = f"must be a number above 0, not {self.rating_gap!r}"
        if not _is_number(self.min_agreement) or not 0 <= self.min_agreement <= 1:
            errors["min_agreement"] = f"must be a number from 0 to 1, not {self.min_agreement!r}"
        if not _is_number(self.test_fraction) or not 0 <= self.test_fraction < 1:
            errors["test_fraction"] = f"must be a number from 0 up to (not including) 1, not {self.test_fraction!r}"
        for name in ("include_margin", "include_agreement", "exclude_suspended", "exclude_flagged", "exclude_gold", "deduplicate"):
            if not isinstance(getattr(self, name), bool):
                errors[name] = f"must be true or false, not {getattr(self, name)!r}"
        if not isinstance(self.split_seed, str):
            errors["split_seed"] = f"must be a string, not {self.split_seed!r}"
        if not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in self.project_ids):
            errors["project_ids"] = f"must be project ids (whole numbers), not {list(self.project_ids)!r}"
        if not self.file_formats or any(name not in FILE_FORMATS for name in self.file_formats):
            errors["file_formats"] = f"must be one or more of {', '.join(FILE_FORMATS)}, not {list(self.file_formats)!r}"
        if errors:
            raise ExportOptionsError(errors)

    @classmethod
    def from_dict(cls, data: dict) -> "ExportOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ExportOptionsError({name: "is not an export option" for name in unknown})
        values = dict(data)
        for name in ("project_ids", "file_formats"):
            if name in values:
                if isinstance(values[name], str) or not hasattr(values[name], "__iter__"):
                    raise ExportOptionsError({name: f"must be a list, not {values[name]!r}"})
                values[name] = tuple(values[name])
        return cls(**values)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["project_ids"] = sorted(self.project_ids)
        data["file_formats"] = sorted(self.file_formats)
        return data


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
