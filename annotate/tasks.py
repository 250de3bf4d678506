"""Celery tasks of the annotate app (queue `default`): they load a row, call a service, save."""
from celery import shared_task


@shared_task
def build_snapshot(snapshot_id: int) -> dict:
    from .exporting import build_snapshot as build
    from .models import Snapshot

    snapshot = Snapshot.objects.get(pk=snapshot_id)
    build(snapshot)
    return {"snapshot": snapshot.pk, "sha256": snapshot.sha256}
