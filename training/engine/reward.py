"""Reward model: TRL's RewardTrainer on preference pairs (the `margin` column is used when present)."""

from __future__ import annotations

from pathlib import Path

from trl import RewardConfig as TRLRewardConfig
from trl import RewardTrainer

from training.engine.config import RewardConfig
from training.engine.data import Splits
from training.engine.hf_training import train_with_trl
from training.engine.reporting import Reporter, TrainingResult


def train_reward_model(splits: Splits, config: RewardConfig, output_dir: Path, reporter: Reporter, *,
                       resume: bool = False) -> TrainingResult:
    return train_with_trl(RewardTrainer, TRLRewardConfig, splits, config, output_dir, reporter,
                          resume=resume, lora_task_type="SEQ_CLS")
