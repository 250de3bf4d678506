import pytest

from training.engine.config import (CONFIG_CLASSES, PRESETS, ConfigError, PPOConfig, config_from_dict,
                                    config_to_dict)


def test_defaults_are_valid_for_every_kind_but_ppo_needs_a_reward_model():
    for kind in ("reward", "dpo", "sft"):
        assert config_to_dict(config_from_dict(kind, {})) == config_to_dict(CONFIG_CLASSES[kind]())
    with pytest.raises(ConfigError) as caught:
        config_from_dict("ppo", {})
    assert set(caught.value.errors) == {"reward_model"}


def test_every_bad_field_is_listed_at_once():
    with pytest.raises(ConfigError) as caught:
        config_from_dict("ppo", {
            "learning_rate": 0, "max_steps": 0, "per_device_batch_size": "8", "use_lora": 1,
            "lora_dropout": 1.0, "precision": "fp16", "kl_coef": -0.1, "gamma": 1.5,
            "rollout_batch_size": 10, "base_model": " ", "warmup": 3,
        })
    errors = caught.value.errors
    assert errors == {
        "learning_rate": "must be greater than 0",
        "max_steps": "must be -1 (train by epochs) or greater than 0",
        "per_device_batch_size": "must be a whole number",
        "use_lora": "must be true or false",
        "lora_dropout": "must be at least 0 and below 1",
        "precision": "must be one of 'auto', 'fp32', 'bf16'",
        "kl_coef": "must be 0 or more",
        "gamma": "must be at most 1",
        "rollout_batch_size": "must be a multiple of per_device_batch_size (8)",
        "base_model": "is required: a hub id, a local path or 'tiny'",
        "warmup": "unknown field for a ppo run",
        "reward_model": "is required: the path of a trained reward model",
    }
    assert "learning_rate: must be greater than 0" in str(caught.value)


def test_unknown_kind_and_non_object_are_refused():
    with pytest.raises(ConfigError) as caught:
        config_from_dict("grpo", {})
    assert "unknown training kind 'grpo'" in caught.value.errors["kind"]
    with pytest.raises(ConfigError) as caught:
        config_from_dict("sft", [1, 2])
    assert caught.value.errors == {"config": "must be a JSON object of field: value"}


def test_whole_numbers_are_accepted_for_float_fields_and_round_trip():
    config = config_from_dict("ppo", {"learning_rate": 1, "reward_model": "/models/rm", "kl_coef": 0})
    assert isinstance(config, PPOConfig) and config.learning_rate == 1.0 and isinstance(config.learning_rate, float)
    assert config_from_dict("ppo", config_to_dict(config)) == config


def test_ppo_accumulation_must_fit_the_rollout():
    with pytest.raises(ConfigError) as caught:
        config_from_dict("ppo", {"reward_model": "rm", "rollout_batch_size": 16, "per_device_batch_size": 8,
                                 "gradient_accumulation_steps": 4})
    assert caught.value.errors == {"gradient_accumulation_steps": (
        "must divide the 2 minibatches of a rollout (rollout_batch_size / per_device_batch_size)")}


def test_dpo_loss_type_is_checked():
    assert config_from_dict("dpo", {"loss_type": "ipo", "beta": 0.5}).beta == 0.5
    with pytest.raises(ConfigError) as caught:
        config_from_dict("dpo", {"loss_type": "magic"})
    assert set(caught.value.errors) == {"loss_type"}


@pytest.mark.parametrize("kind", sorted(PRESETS))
def test_presets_are_valid_configs(kind):
    assert set(PRESETS) == set(CONFIG_CLASSES)
    for overrides in PRESETS[kind].values():
        config_from_dict(kind, {"reward_model": "/models/rm", **overrides} if kind == "ppo" else overrides)
