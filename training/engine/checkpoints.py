"""Checkpoint folders: output_dir/checkpoint-<step>/ while training, output_dir/final/ at the end."""

from __future__ import annotations

import re
from pathlib import Path

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_dir(output_dir, step: int) -> Path:
    return Path(output_dir) / f"checkpoint-{step}"


def last_checkpoint(output_dir) -> Path | None:
    """The checkpoint with the highest step, or None."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return None
    steps = [(int(match.group(1)), path) for path in folder.iterdir()
             if path.is_dir() and (match := _CHECKPOINT.match(path.name))]
    return max(steps)[1] if steps else None


def save_final(model, tokenizer, output_dir) -> Path:
    """Write output_dir/final/, loadable by transformers' Auto* classes: LoRA adapters are merged."""
    from peft import PeftModel

    final = Path(output_dir) / "final"
    if isinstance(model, PeftModel):
        model = model.merge_and_unload()
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    return final
