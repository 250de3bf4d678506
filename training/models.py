"""Training runs and the metrics they report.

A Run holds everything needed to start it again: kind, data (a snapshot or a dataset
path), base model, parent run and the validated config as JSON. Its status moves only
through `training.runs`; the worker fields tell whether the process running it is alive.
"""
from pathlib import Path

from django.conf import settings
from django.db import models


class Run(models.Model):
    class Kind(models.TextChoices):
        REWARD = "reward", "Reward model"
        PPO = "ppo", "PPO"
        DPO = "dpo", "DPO"
        SFT = "sft", "SFT"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    snapshot = models.ForeignKey(
        "annotate.Snapshot", null=True, blank=True, on_delete=models.PROTECT, related_name="runs",
        help_text="The exported data it trains on; a ready snapshot never changes, so the run can be repeated.",
    )
    dataset_path = models.CharField(
        max_length=1000, blank=True, help_text="A .jsonl file or snapshot folder; used when no snapshot is chosen."
    )
    base_model = models.CharField(max_length=1000, help_text="A hub id, a local path or 'tiny'.")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        help_text="PPO: the reward model run. DPO/SFT/PPO: the run whose model it starts from.",
    )
    config = models.JSONField(help_text="The validated training config (training.engine.config).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    resume_on_worker_loss = models.BooleanField(
        default=False, help_text="When its worker dies, queue the run again from its last checkpoint instead of failing it."
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker has started this run.")
    resume_requested = models.BooleanField(default=False, help_text="The next start continues from the last checkpoint.")
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    output_dir = models.CharField(max_length=1000, blank=True, help_text="Relative to settings.RUNS_DIR.")
    final_step = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    log_tail = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat")]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} run {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def output_path(self) -> Path:
        return Path(settings.RUNS_DIR) / self.output_dir

    @property
    def final_model_path(self) -> Path:
        return self.output_path / "final"


class RunMetric(models.Model):
    """What the engine logged at one step: {"loss": 0.61, "accuracy": 0.8, ...}."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    step = models.PositiveIntegerField()
    values = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "step", "id"]
        indexes = [models.Index(fields=["run", "step"], name="runmetric_run_step")]

    def __str__(self) -> str:
        return f"{self.run} step {self.step}"
