"""Training configs: one dataclass per kind, validated field by field.

The web side stores `config_to_dict(config)` in the Run row and rebuilds the dataclass
with `config_from_dict`, so a bad value is refused with every problem listed before
anything is queued.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Literal


class ConfigError(ValueError):
    """Invalid training configuration; `.errors` maps each bad field to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


def _positive(value) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _non_negative(value) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _fraction(value) -> str | None:
    return None if 0 <= value < 1 else "must be at least 0 and below 1"


def _steps(value) -> str | None:
    return None if value == -1 or value > 0 else "must be -1 (train by epochs) or greater than 0"


def _checked(default, check):
    return field(default=default, metadata={"check": check})


@dataclass
class TrainingConfig:
    """Fields shared by every kind. max_steps -1 means: train for num_train_epochs."""

    base_model: str = "tiny"
    learning_rate: float = _checked(5e-5, _positive)
    max_steps: int = _checked(-1, _steps)
    num_train_epochs: float = _checked(1.0, _positive)
    per_device_batch_size: int = _checked(8, _positive)
    gradient_accumulation_steps: int = _checked(1, _positive)
    max_length: int = _checked(512, _positive)
    seed: int = 0
    logging_steps: int = _checked(10, _positive)
    save_steps: int = _checked(500, _positive)
    use_lora: bool = False
    lora_r: int = _checked(16, _positive)
    lora_alpha: int = _checked(32, _positive)
    lora_dropout: float = _checked(0.05, _fraction)
    precision: Literal["auto", "fp32", "bf16"] = "auto"

    def cross_field_errors(self) -> dict[str, str]:
        return {}


@dataclass
class RewardConfig(TrainingConfig):
    pass


@dataclass
class DPOConfig(TrainingConfig):
    learning_rate: float = _checked(5e-7, _positive)
    beta: float = _checked(0.1, _positive)
    loss_type: Literal["sigmoid", "hinge", "ipo", "robust"] = "sigmoid"


@dataclass
class SFTConfig(TrainingConfig):
    learning_rate: float = _checked(2e-5, _positive)


@dataclass
class PPOConfig(TrainingConfig):
    """max_steps counts PPO iterations: one rollout batch, then ppo_epochs of updates on it."""

    learning_rate: float = _checked(1e-5, _positive)
    use_lora: bool = True
    reward_model: str = ""
    kl_coef: float = _checked(0.05, _non_negative)
    cliprange: float = _checked(0.2, _positive)
    cliprange_value: float = _checked(0.2, _positive)
    vf_coef: float = _checked(0.1, _positive)
    gamma: float = _checked(1.0, _positive)
    lam: float = _checked(0.95, _non_negative)
    ppo_epochs: int = _checked(4, _positive)
    rollout_batch_size: int = _checked(16, _positive)
    max_new_tokens: int = _checked(32, _positive)
    temperature: float = _checked(1.0, _positive)
    whiten_rewards: bool = False

    def cross_field_errors(self) -> dict[str, str]:
        errors = {}
        if not self.reward_model.strip():
            errors["reward_model"] = "is required: the path of a trained reward model"
        if self.gamma > 1:
            errors["gamma"] = "must be at most 1"
        if self.lam > 1:
            errors["lam"] = "must be at most 1"
        minibatches, leftover = divmod(self.rollout_batch_size, self.per_device_batch_size)
        if leftover:
            errors["rollout_batch_size"] = (
                f"must be a multiple of per_device_batch_size ({self.per_device_batch_size})"
            )
        elif minibatches % self.gradient_accumulation_steps:
            errors["gradient_accumulation_steps"] = (
                f"must divide the {minibatches} minibatches of a rollout (rollout_batch_size / per_device_batch_size)"
            )
        if self.max_new_tokens >= self.max_length:
            errors["max_new_tokens"] = f"must be below max_length ({self.max_length})"
        return errors


CONFIG_CLASSES: dict[str, type[TrainingConfig]] = {
    "reward": RewardConfig,
    "ppo": PPOConfig,
    "dpo": DPOConfig,
    "sft": SFTConfig,
}

_CPU_SMOKE = {"base_model": "tiny", "per_device_batch_size": 16, "max_length": 64, "precision": "fp32"}
_LORA_7B = {"use_lora": True, "lora_r": 16, "lora_alpha": 32, "max_length": 1024, "precision": "bf16"}

# kind -> preset name -> overrides of the dataclass defaults.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "reward": {
        "cpu-smoke": {**_CPU_SMOKE, "learning_rate": 1e-3, "max_steps": 60, "logging_steps": 10, "save_steps": 30},
        "full-small": {"learning_rate": 1e-5, "num_train_epochs": 1.0, "per_device_batch_size": 8,
                       "max_length": 1024},
        "lora-7b": {**_LORA_7B, "learning_rate": 1e-4, "per_device_batch_size": 4,
                    "gradient_accumulation_steps": 8},
    },
    "ppo": {
        "cpu-smoke": {**_CPU_SMOKE, "use_lora": False, "learning_rate": 1e-3, "max_steps": 8,
                      "rollout_batch_size": 32, "max_new_tokens": 8, "logging_steps": 1, "save_steps": 4},
        "lora-7b": {**_LORA_7B, "learning_rate": 1e-5, "rollout_batch_size": 64, "per_device_batch_size": 8,
                    "max_new_tokens": 128},
    },
    "dpo": {
        "cpu-smoke": {**_CPU_SMOKE, "learning_rate": 1e-3, "max_steps": 30, "logging_steps": 5, "save_steps": 15},
        "lora-7b": {**_LORA_7B, "learning_rate": 5e-6, "per_device_batch_size": 2,
                    "gradient_accumulation_steps": 16},
    },
    "sft": {
        "cpu-smoke": {**_CPU_SMOKE, "learning_rate": 5e-3, "max_steps": 40, "logging_steps": 10, "save_steps": 20},
        "lora-7b": {**_LORA_7B, "learning_rate": 1e-4, "per_device_batch_size": 4,
                    "gradient_accumulation_steps": 8, "max_length": 2048},
    },
}


def _type_error(value, expected) -> str | None:
    if typing.get_origin(expected) is Literal:
        choices = typing.get_args(expected)
        return None if value in choices else f"must be one of {', '.join(map(repr, choices))}"
    if expected is bool:
        return None if isinstance(value, bool) else "must be true or false"
    if expected is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "must be a whole number"
    if expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else "must be a number"
    if expected is str:
        return None if isinstance(value, str) else "must be text"
    raise TypeError(f"unsupported config field type {expected!r}")


def config_from_dict(kind: str, data: dict[str, Any]):
    """Build and validate the config of `kind`; raises ConfigError listing every bad field."""
    if kind not in CONFIG_CLASSES:
        raise ConfigError({"kind": f"unknown training kind {kind!r}; choose one of {', '.join(CONFIG_CLASSES)}"})
    if not isinstance(data, dict):
        raise ConfigError({"config": "must be a JSON object of field: value"})
    config_class = CONFIG_CLASSES[kind]
    hints = typing.get_type_hints(config_class)
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    errors = {name: f"unknown field for a {kind} run" for name in data if name not in fields}
    values = {}
    for name, value in data.items():
        if name not in fields:
            continue
        problem = _type_error(value, hints[name])
        check = fields[name].metadata.get("check")
        if problem is None and check is not None:
            problem = check(value)
        if problem is None:
            values[name] = float(value) if hints[name] is float else value
        else:
            errors[name] = problem
    if "base_model" in values and not values["base_model"].strip():
        errors["base_model"] = "is required: a hub id, a local path or 'tiny'"
    # Cross-field rules run on the valid values (defaults elsewhere), so one answer lists all.
    config = config_class(**{name: value for name, value in values.items() if name not in errors})
    for name, problem in config.cross_field_errors().items():
        errors.setdefault(name, problem)
    if errors:
        raise ConfigError(errors)
    return config


def config_to_dict(config: TrainingConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)
