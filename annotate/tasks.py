"""Celery tasks of the annotate app (queue `default`): they load a row, call a service, save."""
from celery import shared_task

from . import bias
from .flag_refresh import request_refresh_of_active_projects
from .models import Project


@shared_task
def build_snapshot(snapshot_id: int) -> dict:
    from .exporting import build_snapshot as build
    from .models import Snapshot

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
