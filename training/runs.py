"""The life of a training run: launch, the status machine, cancel, resume and retry.

Every status change goes through `_move`, which locks the row and refuses a transition the
machine does not allow:

    queued -> running -> succeeded | failed | cancelled
    queued -> cancelled | failed            (cancelled before a worker took it; lost message)
    running -> queued                       (its worker died and it resumes from a checkpoint)
    failed | cancelled -> queued            (resume: the same run continues from its last checkpoint)

Retry is not a transition: it launches a new run with the same inputs.
"""
import secrets
from dataclasses import dataclass
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from training.engine.checkpoints import last_checkpoint
from training.engine.config import ConfigError, PRESETS, config_from_dict, config_to_dict

from annotate.models import Snapshot

from .models import Run

Status = Run.Status

TRANSITIONS = {
    Status.QUEUED: {Status.RUNNING, Status.CANCELLED, Status.FAILED},
    Status.RUNNING: {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.QUEUED},
    Status.FAILED: {Status.QUEUED},
    Status.CANCELLED: {Status.QUEUED},
    Status.SUCCEEDED: set(),
}


# Which snapshot kinds each run kind can read (PPO only needs the prompts).
SNAPSHOT_KINDS = {
    Run.Kind.REWARD: (Snapshot.Kind.PAIRS,),
    Run.Kind.DPO: (Snapshot.Kind.PAIRS,),
    Run.Kind.SFT: (Snapshot.Kind.SFT,),
    Run.Kind.PPO: (Snapshot.Kind.PAIRS, Snapshot.Kind.SFT),
}


class RunError(Exception):
    """A request about a run that cannot be honoured; `.message` says why in a sentence."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class InvalidTransition(RunError):
    pass


class LaunchError(RunError):
    """Bad launch input; `.errors` maps each field (launch fields and config fields) to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass
class LaunchRequest:
    kind: str
    base_model: str = ""
    preset: str = ""
    config_overrides: dict | None = None
    snapshot: Snapshot | None = None
    dataset_path: str = ""
    parent: Run | None = None
    name: str = ""
    resume_on_worker_loss: bool = False


def build_config(request: LaunchRequest) -> dict:
    """The run's config: dataclass defaults, then the preset, then the overrides, then what the
    launch fields imply (base model, PPO's reward model from its parent). Raises LaunchError."""
    errors = {}
    presets = PRESETS.get(request.kind, {})
    if request.preset and request.preset not in presets:
        errors["preset"] = f"no preset {request.preset!r} for {request.kind} runs; choose one of {', '.join(presets) or 'none'}"
    data = {**presets.get(request.preset, {}), **(request.config_overrides or {})}
    parent = request.parent
    if parent is not None:
        if parent.status != Status.SUCCEEDED:
            errors["parent"] = f"run {parent.pk} has not succeeded ({parent.status}): it has no model to start from"
        elif request.kind == Run.Kind.PPO and parent.kind == Run.Kind.REWARD:
            data["reward_model"] = str(parent.final_model_path)
        elif parent.kind == Run.Kind.REWARD:
            errors["parent"] = "a reward model run can only be the parent of a PPO run"
        elif not request.base_model:
            data["base_model"] = str(parent.final_model_path)
    if request.base_model:
        data["base_model"] = request.base_model
    try:
        config = config_to_dict(config_from_dict(request.kind, data))
    except ConfigError as error:
        errors.update(error.errors)
    if errors:
        raise LaunchError(errors)
    return config


def _data_source_errors(request: LaunchRequest) -> dict[str, str]:
    if request.snapshot is not None and request.dataset_path:
        return {"dataset_path": "choose a snapshot or a dataset path, not both"}
    if request.snapshot is not None:
        snapshot = request.snapshot
        if snapshot.status != Snapshot.Status.READY:
            return {"snapshot": f"snapshot {snapshot.pk} is not ready ({snapshot.status})"}
        wanted = SNAPSHOT_KINDS[request.kind]
        if snapshot.kind not in wanted:
            return {"snapshot": f"a {request.kind} run trains on a {' or '.join(wanted)} snapshot; this one is {snapshot.kind}"}
        return {}
    if not request.dataset_path:
        return {"dataset_path": "choose a snapshot or give a dataset path (a .jsonl file or a snapshot folder)"}
    if not Path(request.dataset_path).exists():
        return {"dataset_path": f"{request.dataset_path} does not exist"}
    return {}


def launch(request: LaunchRequest, *, created_by=None) -> Run:
    """Validate everything, save a queued run and send it to the `gpu` queue once committed."""
    errors = _data_source_errors(request)
    try:
        config = build_config(request)
    except LaunchError as error:
        errors = {**errors, **error.errors}
    if errors:
        raise LaunchError(errors)
    with transaction.atomic():
        run = Run.objects.create(
            name=request.name, kind=request.kind, snapshot=request.snapshot, dataset_path=request.dataset_path,
            base_model=config["base_model"], parent=request.parent, config=config,
            resume_on_worker_loss=request.resume_on_worker_loss, created_by=created_by,
        )
        # The random part keeps a new database's run 1 away from an old run 1's checkpoints.
        run.output_dir = f"run-{run.pk}-{secrets.token_hex(4)}"
        run.save(update_fields=["output_dir"])
        enqueue(run)
    return run


def retry(run: Run, *, created_by=None) -> Run:
    """A new run with the same inputs and config, from scratch."""
    if run.is_active:
        raise InvalidTransition(f"run {run.pk} is still {run.status}; cancel it before retrying")
    request = LaunchRequest(
        kind=run.kind, base_model=run.base_model, config_overrides=run.config, snapshot=run.snapshot,
        dataset_path=run.dataset_path, parent=run.parent, name=run.name,
        resume_on_worker_loss=run.resume_on_worker_loss,
    )
    return launch(request, created_by=created_by)


def enqueue(run: Run) -> None:
    """Send the run to its worker once the transaction that queued it commits."""
    limit = settings.TRAINING_TIME_LIMIT_SECONDS
    transaction.on_commit(
        lambda: current_app.send_task(
            "training.tasks.execute_run", args=[run.pk],
            soft_time_limit=limit, time_limit=limit + settings.TRAINING_HARD_TIME_LIMIT_GRACE_SECONDS,
        )
    )


def _move(run_id: int, to: str, **fields) -> Run:
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if to not in TRANSITIONS[run.status]:
            raise InvalidTransition(f"run {run.pk} is {run.status}; it cannot become {to}")
        run.status = to
        for name, value in fields.items():
            setattr(run, name, value)
        run.save(update_fields=["status", *fields])
    return run


def has_checkpoint(run: Run) -> bool:
    """Whether a resume would find a checkpoint: the engine's own rule, half-written ones passed over."""
    return last_checkpoint(run.output_path) is not None


def request_cancel(run: Run) -> Run:
    """A queued run is cancelled at once; a running one stops at its next logging step."""
    if run.status == Status.QUEUED:
        try:
            return _move(run.pk, Status.CANCELLED, finished_at=timezone.now(), error="cancelled before it started")
        except InvalidTransition:
            run.refresh_from_db()  # a worker took it meanwhile: ask that worker to stop
    if run.status != Status.RUNNING:
        raise InvalidTransition(f"run {run.pk} is {run.status}; only queued or running runs can be cancelled")
    Run.objects.filter(pk=run.pk, status=Status.RUNNING).update(cancel_requested=True)
    run.refresh_from_db()
    return run


def resume(run: Run) -> Run:
    """Queue a failed or cancelled run again; it continues from its last checkpoint."""
    if not has_checkpoint(run):
        raise RunError(f"run {run.pk} saved no checkpoint to resume from; retry it instead")
    with transaction.atomic():
        run = _requeue(run.pk, resume=True)
    return run


def _requeue(run_id: int, *, resume: bool) -> Run:
    run = _move(
        run_id, Status.QUEUED, resume_requested=resume, cancel_requested=False, error="",
        finished_at=None, worker_host="", worker_pid=None, heartbeat_at=None,
    )
    enqueue(run)
    return run


def claim(run_id: int, *, worker_host: str, worker_pid: int) -> Run | None:
    """The worker takes a queued run (queued -> running); None when there is nothing to run:
    it was cancelled meanwhile, already finished, or taken by another live worker."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != Status.QUEUED:
            return None
        now = timezone.now()
        return _move(
            run_id, Status.RUNNING, started_at=run.started_at or now, heartbeat_at=now,
            worker_host=worker_host, worker_pid=worker_pid, attempts=run.attempts + 1,
        )


def finish(run_id: int, *, cancelled: bool, step: int) -> Run:
    to = Status.CANCELLED if cancelled else Status.SUCCEEDED
    return _move(run_id, to, finished_at=timezone.now(), final_step=step, cancel_requested=False)


def fail(run_id: int, reason: str) -> Run:
    return _move(run_id, Status.FAILED, finished_at=timezone.now(), error=reason)


def handle_worker_loss(run: Run, reason: str) -> Run:
    """A running run whose worker is gone: queue it again from its checkpoint when the run asks
    for that and has attempts left, otherwise fail it with the reason."""
    retryable = run.resume_on_worker_loss and run.attempts < settings.TRAINING_MAX_ATTEMPTS
    with transaction.atomic():
        if retryable:
            return _requeue(run.pk, resume=has_checkpoint(run))
        return fail(run.pk, reason)
