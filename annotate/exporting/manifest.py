"""A snapshot's manifest: per-file sha256, one sha256 over all files, and the code version."""
import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path

from django.conf import settings

MANIFEST = "manifest.json"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(folder: Path, known: dict[str, dict]) -> dict[str, dict]:
    """Relative path -> {"sha256", "bytes"} for every file but the manifest, in sorted order;
    files in `known` (hashed as they were written) are not read again."""
    paths = sorted(path for path in folder.rglob("*") if path.is_file() and path.name != MANIFEST)
    hashes = {}
    for path in paths:
        name = path.relative_to(folder).as_posix()
        hashes[name] = known.get(name) or {"sha256": file_sha256(path), "bytes": path.stat().st_size}
    return hashes


class HashedFile:
    """A binary file that keeps its sha256 and size as it is written: reading gigabytes back to
    hash them cost the export as much as writing them. Large buffer: few system calls."""

    BUFFER = 1 << 20

    def __init__(self, path: Path, root: Path):
        self.name = path.relative_to(root).as_posix()
        self._file = open(path, "wb", buffering=self.BUFFER)
        self._digest = hashlib.sha256()
        self._bytes = 0

    def write(self, data: bytes) -> None:
        self._digest.update(data)
        self._file.write(data)
        self._bytes += len(data)

    def close(self) -> None:
        self._file.close()

    def entry(self) -> tuple[str, dict]:
        """(relative path, {"sha256", "bytes"}) as file_hashes gives it."""
        return self.name, {"sha256": self._digest.hexdigest(), "bytes": self._bytes}


def overall_sha256(files: dict[str, dict]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{files[name]['sha256']}\n".encode())
    return digest.hexdigest()


def code_version() -> str:
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=10, check=True,
        )
        return described.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return metadata.version("prefstack")


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
