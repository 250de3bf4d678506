"""SFT: TRL's SFTTrainer on demonstrations (prompt/completion, messages or text rows)."""

from __future__ import annotations

from pathlib import Path

from trl import SFTConfig as TRLSFTConfig
from trl import SFTTrainer

from training.engine.config import SFTConfig
from training.engine.data import Splits
from training.engine.hf_training import train_with_trl
from training.engine.reporting import Reporter, TrainingResult


def train_sft(splits: Splits, config: SFTConfig, output_dir: Path, reporter: Reporter, *,
              resume: bool = False) -> TrainingResult:
    return train_with_trl(SFTTrainer, TRLSFTConfig, splits, config, output_dir, reporter, resume=resume,
                          lora_task_type="CAUSAL_LM")
