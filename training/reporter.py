"""The engine's Reporter for a Run: metrics become RunMetric rows, text lines go to the run's
log file and its log tail, and should_stop() answers the cancel button and the time limit."""
import math
import time
from collections import deque
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import Run, RunMetric

# Text lines are written to the row at most this often (metrics flush them too).
TAIL_FLUSH_SECONDS = 1.0


def _json_number(value) -> float | None:
    """JSON (and PostgreSQL's jsonb) has no NaN or infinity: those are stored as null."""
    number = float(value)
    return number if math.isfinite(number) else None


class RunReporter:
    def __init__(self, run: Run, *, log_file: Path, deadline: datetime | None = None):
        self.run = run
        self.deadline = deadline
        self.stop_reason = ""  # "cancelled" or "time limit" once should_stop() said yes
        self._tail = deque(run.log_tail.splitlines(), maxlen=settings.TRAINING_LOG_TAIL_LINES)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(log_file, "a", encoding="utf-8")
        self._flushed_at = time.monotonic()
        self._unflushed = False

    def log(self, step: int, metrics: dict[str, float]) -> None:
        RunMetric.objects.create(run=self.run, step=step, values={name: _json_number(v) for name, v in metrics.items()})
        self._flush_tail()

    def text(self, line: str) -> None:
        for part in str(line).splitlines() or [""]:
            self._tail.append(part)
            self._log_file.write(part + "\n")
        self._unflushed = True
        if time.monotonic() - self._flushed_at >= TAIL_FLUSH_SECONDS:
            self._flush_tail()

    def should_stop(self) -> bool:
        if Run.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
            self.stop_reason = "cancelled"
        elif self.deadline is not None and timezone.now() >= self.deadline:
            self.stop_reason = "time limit"
        return bool(self.stop_reason)

    def close(self) -> None:
        self._flush_tail()
        self._log_file.close()

    def _flush_tail(self) -> None:
        """Writes the tail to the row when lines came since the last write (the heartbeat is the thread's job)."""
        if not self._unflushed:
            return
        self._log_file.flush()
        Run.objects.filter(pk=self.run.pk).update(log_tail="\n".join(self._tail))
        self._flushed_at = time.monotonic()
        self._unflushed = False
