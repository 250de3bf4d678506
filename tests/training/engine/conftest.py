"""Shared, session-scoped training artefacts: trained once, used by every engine test."""

import pytest
import torch

from training.engine.reporting import MemoryReporter
from training.engine.runner import run_training
from training.engine.tiny import build_tiny_model, write_marker_dataset

torch.set_num_threads(1)

SMOKE = {"per_device_batch_size": 16, "max_length": 64, "precision": "fp32", "logging_steps": 10}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny-model")))


@pytest.fixture(scope="session")
def marker_pairs(tmp_path_factory):
    return write_marker_dataset(tmp_path_factory.mktemp("marker-pairs"), n_train=256, n_test=64)


@pytest.fixture(scope="session")
def marker_sft(tmp_path_factory):
    return write_marker_dataset(tmp_path_factory.mktemp("marker-sft"), n_train=256, n_test=32, kind="sft")


@pytest.fixture(scope="session")
def sft_run(tiny_model, marker_sft, tmp_path_factory):
    """(result, reporter) of the tiny model tuned on marker demonstrations: PPO's starting policy."""
    return recorded_run("sft", marker_sft, tmp_path_factory.mktemp("sft-run"), base_model=tiny_model,
                        learning_rate=5e-3, max_steps=40, save_steps=40)


@pytest.fixture(scope="session")
def reward_run(tiny_model, marker_pairs, tmp_path_factory):
    """(result, reporter) of a reward model trained on the marker pairs."""
    return recorded_run("reward", marker_pairs, tmp_path_factory.mktemp("reward-run"), base_model=tiny_model,
                        learning_rate=1e-3, max_steps=40, save_steps=20)


def train(kind, data, output_dir, reporter=None, *, resume=False, **overrides):
    """run_training with the small CPU settings the engine tests share."""
    return run_training(kind, data, {**SMOKE, **overrides}, output_dir, reporter or MemoryReporter(), resume=resume)


def recorded_run(kind, data, output_dir, **overrides):
    """(result, reporter) of a run with the shared small settings."""
    reporter = MemoryReporter()
    return train(kind, data, output_dir, reporter, **overrides), reporter
