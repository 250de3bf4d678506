"""The engine's one entry point: run_training(kind, dataset, config, output_dir, reporter)."""

from __future__ import annotations

from pathlib import Path

from training.engine.config import TrainingConfig, config_from_dict, config_to_dict
from training.engine.data import load_splits
from training.engine.reporting import Reporter, TrainingResult

__all__ = ["run_training", "TrainingResult"]


def _trainer_for(kind: str):
    # Imported on demand: each kind pulls in a different part of TRL.
    if kind == "reward":
        from training.engine.reward import train_reward_model
        return train_reward_model
    if kind == "ppo":
        from training.engine.ppo import train_ppo
        return train_ppo
    if kind == "dpo":
        from training.engine.dpo import train_dpo
        return train_dpo
    from training.engine.sft import train_sft
    return train_sft


def run_training(kind: str, dataset_path, config: TrainingConfig | dict, output_dir, reporter: Reporter, *,
                 resume: bool = False) -> TrainingResult:
    """Train `kind` on dataset_path (a .jsonl file or a snapshot folder) into output_dir.

    Raises ConfigError for a bad config and DatasetError for unusable data, before training starts.
    """
    # A dataclass built by hand is validated like one from JSON.
    config = config_from_dict(kind, config if isinstance(config, dict) else config_to_dict(config))
    splits = load_splits(kind, dataset_path)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    return _trainer_for(kind)(splits, config, output_dir, reporter, resume=resume)
