"""Reward model: TRL's RewardTrainer on preference pairs (the `margin` column is used when present)."""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset
from trl import RewardConfig as TRLRewardConfig
from trl import RewardTrainer

from training.engine.config import RewardConfig
from training.engine.data import Splits
from training.engine.device import plan_device
from training.engine.hf_training import (ReporterCallback, load_tokenizer, lora_arguments, quiet,
                                         train_and_save, trainer_arguments)
from training.engine.reporting import Reporter, TrainingResult
from training.engine.tiny import resolve_model_path


def train_reward_model(splits: Splits, config: RewardConfig, output_dir: Path, reporter: Reporter, *,
                       resume: bool = False) -> TrainingResult:
    model_path = resolve_model_path(config.base_model)
    plan = plan_device(config.precision)
    callback = ReporterCallback(reporter)
    trainer = quiet(RewardTrainer(
        model=model_path,
        args=TRLRewardConfig(**trainer_arguments(config, output_dir, plan, evaluate=bool(splits.test))),
        train_dataset=Dataset.from_list(splits.train),
        eval_dataset=Dataset.from_list(splits.test) if splits.test else None,
        processing_class=load_tokenizer(model_path),
        peft_config=lora_arguments(config, "SEQ_CLS"),
        callbacks=[callback],
    ))
    return train_and_save(trainer, callback, output_dir, reporter, resume=resume)
