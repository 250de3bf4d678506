"""How a training run talks to whoever launched it: metrics, text lines, cancellation.

Metric names (training/engine/README.md lists them all): reward, DPO and SFT report loss,
learning_rate, epoch and eval_loss (reward also accuracy and eval_accuracy, DPO
rewards/accuracies); PPO reports reward_mean, kl, policy_loss, value_loss, entropy,
samples_per_second, and one sample generation per logging step as a text line.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO


class Reporter(Protocol):
    def log(self, step: int, metrics: dict[str, float]) -> None: ...

    def text(self, line: str) -> None: ...

    def should_stop(self) -> bool:
        """Polled every logging step; True cancels the run after saving a checkpoint."""
        ...


class MemoryReporter:
    """Keeps everything in lists; `stop_at_step` asks for a cancel once that step is logged."""

    def __init__(self, stop_at_step: int | None = None):
        self.metrics: list[tuple[int, dict[str, float]]] = []
        self.lines: list[str] = []
        self.stop_at_step = stop_at_step

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.metrics.append((step, dict(metrics)))

    def text(self, line: str) -> None:
        self.lines.append(line)

    def should_stop(self) -> bool:
        return self.stop_at_step is not None and any(step >= self.stop_at_step for step, _ in self.metrics)

    def series(self, name: str) -> list[tuple[int, float]]:
        return [(step, values[name]) for step, values in self.metrics if name in values]


class JsonLinesReporter:
    """One JSON object per line on a stream (the CLI's output); never asks to stop."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream  # None: whatever sys.stdout is at the time of writing

    def log(self, step: int, metrics: dict[str, float]) -> None:
        print(json.dumps({"step": step, **metrics}), file=self.stream or sys.stdout, flush=True)

    def text(self, line: str) -> None:
        print(json.dumps({"text": line}), file=self.stream or sys.stdout, flush=True)

    def should_stop(self) -> bool:
        return False


@dataclass
class TrainingResult:
    outcome: str  # "completed" or "cancelled"
    step: int
    metrics: dict[str, float]  # the latest value of every metric reported
    final_dir: Path | None  # output_dir/final, None when cancelled
