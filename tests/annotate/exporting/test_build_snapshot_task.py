"""annotate.tasks.build_snapshot through a real worker process: the admin queues a snapshot, the worker builds it."""
import shutil
import time
import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from annotate.models import Snapshot, TaskMode
from annotate.tasks import build_snapshot
from tests.factories import ItemFactory, ProjectFactory, annotators_of, judgement_of

pytestmark = pytest.mark.worker


@pytest.fixture
def judged_project(settings):
    # The worker writes where its settings say (its data folder), so this test's snapshots go there too.
    settings.SNAPSHOT_DIR = settings.DATA_DIR / "snapshots"
    project = ProjectFactory(slug=f"worker-{uuid.uuid4().hex[:8]}", task_mode=TaskMode.RANKING)
    users = annotators_of(project, 2)
    for _ in range(5):
        item = ItemFactory(project=project)
        for user in users:
            judgement_of(item, user, ranks=[1, 2, 3, 4])
    yield project
    shutil.rmtree(settings.SNAPSHOT_DIR / project.slug, ignore_errors=True)


def wait_until_settled(snapshot: Snapshot, timeout: float = 90) -> Snapshot:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot.refresh_from_db()
        if snapshot.status in (Snapshot.Status.READY, Snapshot.Status.FAILED):
            return snapshot
        time.sleep(0.3)
    raise AssertionError(f"snapshot still {snapshot.status} after {timeout}s")


def test_the_admin_queues_a_snapshot_and_the_worker_builds_it_or_records_why_not(
    celery_worker_process, judged_project, admin_client
):
    # One worker start for both outcomes: starting one costs seconds.
    response = admin_client.post(
        reverse("admin:annotate_project_export_snapshot", args=[judged_project.pk]),
        {"kind": "pairs", "mode": "per_annotator", "ties": "drop", "rating_gap": "1", "format": "standard",
         "include_margin": "on", "exclude_gold": "on", "min_agreement": "0", "test_fraction": "0",
         "split_seed": "0", "file_formats": ["jsonl"]},
    )
    assert response.status_code == 302
    snapshot = wait_until_settled(Snapshot.objects.get(project=judged_project))
    assert snapshot.status == Snapshot.Status.READY, snapshot.error
    assert snapshot.progress == 1.0 and snapshot.counts["rows"]["train"] == 5 * 2 * 6
    assert (settings.SNAPSHOT_DIR / snapshot.folder / "manifest.json").is_file()

    broken = Snapshot.objects.create(project=judged_project, options={"mode": "nonsense"}, folder=f"{judged_project.slug}/x")
    with pytest.raises(Exception, match="mode"):
        build_snapshot.delay(broken.pk).get(timeout=90)
    broken.refresh_from_db()
    assert broken.status == Snapshot.Status.FAILED and "mode: must be one of" in broken.error


def test_the_task_goes_to_the_default_queue():
    assert build_snapshot.name == "annotate.tasks.build_snapshot"
    from prefstack.celery import app

    assert app.amqp.router.route({}, build_snapshot.name)["queue"].name == "default"
