"""Celery tasks of the annotate app; each loads a row, calls a service, saves."""
from celery import shared_task

from .exporting import build_snapshot as build
from .models import Snapshot


@shared_task(name="annotate.tasks.build_snapshot")
def build_snapshot(snapshot_id: int) -> dict:
    """Build one pending snapshot (queue default); the service records progress and any failure in the row."""
    snapshot = Snapshot.objects.get(pk=snapshot_id)
    build(snapshot)
    return {"snapshot": snapshot.pk, "sha256": snapshot.sha256}
