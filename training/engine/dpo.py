"""DPO: TRL's DPOTrainer straight from preference pairs; with LoRA the reference is the adapter-free model."""

from __future__ import annotations

from pathlib import Path

from trl import DPOConfig as TRLDPOConfig
from trl import DPOTrainer

from training.engine.config import DPOConfig
from training.engine.data import Splits
from training.engine.hf_training import train_with_trl
from training.engine.reporting import Reporter, TrainingResult


def train_dpo(splits: Splits, config: DPOConfig, output_dir: Path, reporter: Reporter, *,
              resume: bool = False) -> TrainingResult:
    return train_with_trl(DPOTrainer, TRLDPOConfig, splits, config, output_dir, reporter, resume=resume,
                          lora_task_type="CAUSAL_LM", beta=config.beta, loss_type=[config.loss_type])
