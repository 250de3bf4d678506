"""What an import did, or would do, and every line it refused."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LineError:
    """Why one line cannot be imported; `line` is None for a problem with the whole file."""

    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = "file" if self.line is None else f"line {self.line}"
        return f"{where}: {self.field}: {self.message}"


@dataclass
class ImportReport:
    format: str = ""
    container: str = ""
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    responses_written: int = 0
    errors: list[LineError] = field(default_factory=list)
    # What the importer coped with in the source (coerced values, records with nothing to rank).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def saved(self) -> bool:
        return self.ok and not self.dry_run

    def summary(self) -> str:
        if not self.ok:
            return f"{len(self.errors)} bad line(s); nothing was imported."
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.created} item(s) {verb} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped as duplicates ({self.responses_written} response(s) written); "
            f"format {self.format} ({self.container})."
        )
