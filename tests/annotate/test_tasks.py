"""annotate.tasks through a real worker process: flag refreshes and snapshot builds."""
import shutil
import time
import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from annotate.models import AnnotatorFlag, Project, Snapshot, TaskMode
from annotate.tasks import build_snapshot, refresh_project_flags
from tests.factories import ItemFactory, ProjectFactory, UserFactory, annotators_of, judgement_of

pytestmark = pytest.mark.worker


def test_submits_trigger_a_refresh_that_the_worker_runs(celery_worker_process, settings):
    settings.FLAG_REFRESH_EVERY_SUBMITS = 1
    project = ProjectFactory(flag_thresholds={"min_judgements": 5, "reading_chars_per_second": 5})
    [rusher] = annotators_of(project, 1)
    for _ in range(12):  # each asks for a refresh; one task is queued at a time
        judgement_of(ItemFactory(project=project), rusher, ranks=[1, 2], seconds=0.5)

    flags = AnnotatorFlag.objects.filter(project=project, annotator=rusher, is_active=True)
    deadline = time.monotonic() + 60
    while not flags.filter(kind="too_fast").exists() or Project.objects.get(pk=project.pk).flags_requested_at:
        assert time.monotonic() < deadline, "the worker never stored the flags"
        time.sleep(0.2)
    assert {"too_fast", "straight_lining", "uniform_timing"} <= set(flags.values_list("kind", flat=True))

    assert refresh_project_flags.delay(project.pk).get(timeout=60) == flags.count()
    assert refresh_project_flags.delay(project.pk + 1000).get(timeout=60) == 0  # a deleted project is skipped


@pytest.fixture
def judged_project(settings):
    # The worker writes where its settings say (its data folder), so this test's snapshots go there too.
    settings.SNAPSHOT_DIR = settings.DATA_DIR / "snapshots"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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


def test_the_admin_queues_a_snapshot_and_the_worker_builds_it(celery_worker_process, judged_project, client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    response = client.post(
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


def test_the_task_records_a_failure_with_its_reason(celery_worker_process, judged_project):
    snapshot = Snapshot.objects.create(project=judged_project, options={"mode": "nonsense"}, folder=f"{judged_project.slug}/x")
    result = build_snapshot.delay(snapshot.pk)
    with pytest.raises(Exception, match="mode"):
        result.get(timeout=90)
    snapshot.refresh_from_db()
    assert snapshot.status == Snapshot.Status.FAILED and "mode: must be one of" in snapshot.error


def test_the_task_goes_to_the_default_queue():
    assert build_snapshot.name == "annotate.tasks.build_snapshot"
    from prefstack.celery import app

    assert app.amqp.router.route({}, build_snapshot.name)["queue"].name == "default"
