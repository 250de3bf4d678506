"""Celery tasks of the annotate app; each loads a row, calls a service, saves."""
from celery import shared_task

from . import bias, queue
from .export import build_snapshot as build
from .flag_refresh import request_refresh_of_active_projects
from .models import Project, Snapshot


@shared_task(name="annotate.tasks.build_snapshot")
def build_snapshot(snapshot_id: int) -> dict:
    """Build one pending snapshot (queue default); the service records progress and any failure in the row."""
    snapshot = Snapshot.objects.get(pk=snapshot_id)
    build(snapshot)
    return {"snapshot": snapshot.pk, "sha256": snapshot.sha256}


@shared_task(name="annotate.tasks.refresh_project_flags")
def refresh_project_flags(project_id: int) -> int:
    """Recompute one project's flags; returns how many are active. A project deleted meanwhile is skipped."""
    # Cleared first, so that submits arriving during the computation can queue the next one.
    if not Project.objects.filter(pk=project_id).update(flags_requested_at=None):
        return 0
    return bias.refresh_flags(Project.objects.get(pk=project_id))


@shared_task(name="annotate.tasks.refresh_all_project_flags")
def refresh_all_project_flags() -> int:
    """Beat's sweep; returns how many projects got a recomputation queued."""
    return request_refresh_of_active_projects()


@shared_task(name="annotate.tasks.expire_overdue_leases")
def expire_overdue_leases() -> int:
    """Beat's tidy-up of lease states (the queue already treats overdue leases as free); returns how many."""
    return queue.expire_leases()
