"""Checkpoint folders: output_dir/checkpoint-<step>/ while training, output_dir/final/ at the end."""

from __future__ import annotations

import json
import re
from pathlib import Path

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# Both HF's Trainer and our PPO write this file last, so its presence marks a finished folder.
TRAINER_STATE = "trainer_state.json"


def checkpoint_dir(output_dir, step: int) -> Path:
    return Path(output_dir) / f"checkpoint-{step}"


def last_checkpoint(output_dir) -> Path | None:
    """The complete checkpoint with the highest step, or None.

    A worker killed while saving leaves a half-written folder behind; resuming from it would fail
    ("Can't find a valid checkpoint"), so such folders are passed over for the one before."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return None
    steps = [(int(match.group(1)), path) for path in folder.iterdir()
             if path.is_dir() and (match := _CHECKPOINT.match(path.name)) and _is_complete(path)]
    return max(steps)[1] if steps else None


def _is_complete(checkpoint: Path) -> bool:
    try:
        json.loads((checkpoint / TRAINER_STATE).read_text())
    except (OSError, ValueError):
        return False
    return True


def save_final(model, tokenizer, output_dir) -> Path:
    """Write output_dir/final/, loadable by transformers' Auto* classes: LoRA adapters are merged."""
    from peft import PeftModel

    final = Path(output_dir) / "final"
    if isinstance(model, PeftModel):
        model = model.merge_and_unload()
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    return final
