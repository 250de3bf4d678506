"""One attempt at a run on a worker: claim it, train through the engine, record the outcome."""
import traceback
from datetime import timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from training.engine.runner import run_training

from . import liveness, runs
from .models import Run
from .reporter import RunReporter


def dataset_location(run: Run) -> Path:
    return run.snapshot.path if run.snapshot_id else Path(run.dataset_path)


def execute(run_id: int) -> Run | None:
    """Run `run_id` to its end; None when there was nothing to run (cancelled or finished
    meanwhile, or a redelivered message for a run another worker holds)."""
    # A message redelivered after its worker died finds the run still "running": settle that first.
    liveness.reap_lost_runs(runs_to_check=Run.objects.filter(pk=run_id))
    run = runs.claim(run_id, **liveness.this_worker())
    if run is None:
        return None
    limit = timedelta(seconds=settings.TRAINING_TIME_LIMIT_SECONDS)
    reporter = RunReporter(run, log_file=run.output_path / "train.log", deadline=timezone.now() + limit)
    failure = None
    try:
        with liveness.Heartbeat(run.pk):
            result = run_training(
                run.kind, dataset_location(run), run.config, run.output_path,
                reporter, resume=run.resume_requested,
            )
    except SoftTimeLimitExceeded:
        failure = f"Stopped: the time limit of {limit} was reached."
    except Exception as error:
        reporter.text(traceback.format_exc())
        failure = f"{type(error).__name__}: {error}"
    finally:
        reporter.close()  # the log tail is in the row before the outcome is
    if failure:
        return runs.fail(run.pk, failure)
    if reporter.stop_reason == "time limit":
        return runs.fail(run.pk, f"Stopped at step {result.step}: the time limit of {limit} was reached.")
    return runs.finish(run.pk, cancelled=result.outcome == "cancelled", step=result.step)
