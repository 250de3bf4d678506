"""Celery tasks of the training app. execute_run goes to the `gpu` queue (settings.CELERY_TASK_ROUTES);
late ack with reject-on-worker-lost puts the message back when a worker dies mid-run, and the
redelivered message finds the run settled by liveness (failed, or queued to resume)."""
from celery import shared_task
from celery.signals import worker_ready
from django.db import close_old_connections

from . import execution, liveness


@shared_task(name="training.tasks.execute_run", acks_late=True, reject_on_worker_lost=True)
def execute_run(run_id: int) -> str | None:
    run = execution.execute(run_id)
    return run.status if run else None


@shared_task(name="training.tasks.reap_lost_runs", queue="default")
def reap_lost_runs() -> list[int]:
    return [run.pk for run in liveness.reap_lost_runs()]


@worker_ready.connect
def reap_runs_of_dead_workers(**kwargs) -> None:
    """A worker that starts settles the runs that workers before it left behind."""
    close_old_connections()
    liveness.reap_lost_runs()
    close_old_connections()
