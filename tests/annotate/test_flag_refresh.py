"""Flags are recomputed in the background: every N-th judgement and the beat sweep ask for it,
and at most one recomputation per project is queued at a time."""
from datetime import timedelta

import pytest
from django.utils import timezone

from annotate.flag_refresh import STALE_REQUEST, request_refresh, request_refresh_of_active_projects
from annotate.models import Project
from tests.factories import ItemFactory, ProjectFactory, annotators_of, judgement_of

pytestmark = pytest.mark.django_db


def requested_at(project):
    return Project.objects.values_list("flags_requested_at", flat=True).get(pk=project.pk)


def test_one_request_at_a_time_per_project(django_capture_on_commit_callbacks):
    project, other = ProjectFactory(), ProjectFactory()
    with django_capture_on_commit_callbacks() as queued:
        assert request_refresh(project.pk) is True
        assert request_refresh(project.pk) is False
        assert request_refresh(other.pk) is True
    assert len(queued) == 2  # one task per project, sent once the transaction commits
    assert requested_at(project) is not None


def test_a_stale_request_is_renewed(django_capture_on_commit_callbacks):
    project = ProjectFactory()
    Project.objects.filter(pk=project.pk).update(flags_requested_at=timezone.now() - STALE_REQUEST - timedelta(seconds=1))
    with django_capture_on_commit_callbacks() as queued:
        assert request_refresh(project.pk) is True
    assert len(queued) == 1
    assert timezone.now() - requested_at(project) < timedelta(minutes=1)


def test_every_nth_judgement_asks_for_fresh_flags(settings, django_capture_on_commit_callbacks):
    settings.FLAG_REFRESH_EVERY_SUBMITS = 3
    project = ProjectFactory()
    [annotator] = annotators_of(project, 1)
    with django_capture_on_commit_callbacks() as after_commit:
        judgements = [judgement_of(ItemFactory(project=project), annotator, ranks=[1, 2]) for _ in range(6)]
    assert len(after_commit) == sum(j.pk % 3 == 0 for j in judgements) == 2
    assert requested_at(project) is None  # nothing claimed inside the submit's transaction


def test_the_sweep_asks_for_open_projects_with_judgements(django_capture_on_commit_callbacks):
    judged, closed, empty = ProjectFactory(), ProjectFactory(is_active=False), ProjectFactory()
    for project in (judged, closed):
        [annotator] = annotators_of(project, 1)
        judgement_of(ItemFactory(project=project), annotator, ranks=[2, 1])
    with django_capture_on_commit_callbacks():
        assert request_refresh_of_active_projects() == 1
    assert [requested_at(p) is not None for p in (judged, closed, empty)] == [True, False, False]
