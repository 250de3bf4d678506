"""The flag and lease tasks through a real Celery worker process (each test starts one: they are slow)."""
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from annotate.models import AnnotatorFlag, Assignment, Project
from annotate.queue import next_assignment
from annotate.tasks import expire_overdue_leases, refresh_project_flags
from tests.factories import ItemFactory, ProjectFactory, annotators_of, judgement_of

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


def test_the_worker_marks_overdue_leases_expired(celery_worker_process):
    project = ProjectFactory(lease_seconds=60, gold_rate=0.0)
    ItemFactory(project=project)
    [annotator] = annotators_of(project, 1)
    lease = next_assignment(project, annotator, now=timezone.now() - timedelta(minutes=5))
    assert expire_overdue_leases.delay().get(timeout=60) == 1
    lease.refresh_from_db()
    assert lease.state == Assignment.State.EXPIRED
