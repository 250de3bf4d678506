"""The train/test split: a hash of the item, so an item (all its rows) lands in one split."""
import hashlib


def split_of(project_slug: str, external_id: str, *, seed: str, test_fraction: float) -> str:
    digest = hashlib.sha256(f"{seed}\x1f{project_slug}\x1f{external_id}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") < test_fraction * 2**64 else "train"
