"""The flag tasks through a real Celery worker process (one worker start: they are slow)."""
import time

import pytest

from annotate.models import AnnotatorFlag, Project
from annotate.tasks import refresh_project_flags
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
