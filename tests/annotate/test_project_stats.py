"""The dashboard's numbers, computed from real judgement rows."""
from datetime import timedelta

import krippendorff
import numpy as np
import pytest
from django.core.cache import cache
from django.utils import timezone

from annotate.models import AnnotatorFlag, Assignment, Judgement, Membership, TaskMode
from annotate.project_stats import (
    agreement_over_time,
    annotator_table,
    dashboard_stats,
    project_alpha,
    project_progress,
)
from tests.factories import ItemFactory, ProjectFactory, UserFactory, annotators_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def judge(item, annotator, *, ranks=None, ratings=None, seconds=20.0, minutes_ago=0):
    now = timezone.now() - timedelta(minutes=minutes_ago)
    n = item.responses.count()
    assignment = Assignment.objects.create(
        project=item.project, item=item, annotator=annotator, state=Assignment.State.SUBMITTED,
        shown_order=list(range(n)), leased_at=now, expires_at=now + timedelta(minutes=15),
    )
    judgement = Judgement.objects.create(
        assignment=assignment, project=item.project, item=item, annotator=annotator,
        ranks=ranks, ratings=ratings, shown_order=list(range(n)), seconds_spent=seconds,
    )
    Judgement.objects.filter(pk=judgement.pk).update(created_at=now)
    return judgement


ORDERS = [[1, 2, 3, 4], [2, 1, 4, 3], [4, 3, 2, 1], [1, 3, 2, 4], [3, 4, 1, 2], [2, 4, 3, 1]]


@pytest.fixture
def ranking_project():
    """Six ranking items; annotators 0, 1 and 2 agree exactly, 3 reverses every ranking (and judges last)."""
    project = ProjectFactory(task_mode=TaskMode.RANKING, slug="ranked")
    annotators = annotators_of(project, 4)
    items = [ItemFactory(project=project) for _ in ORDERS]
    for minute, (item, ranks) in enumerate(zip(items, ORDERS)):
        judge(item, annotators[0], ranks=ranks, seconds=10 + minute, minutes_ago=60 - minute)
        judge(item, annotators[1], ranks=ranks, seconds=20, minutes_ago=50 - minute)
        judge(item, annotators[2], ranks=ranks, seconds=25, minutes_ago=40 - minute)
        judge(item, annotators[3], ranks=[5 - r for r in ranks], seconds=30, minutes_ago=30 - minute)
    return project, annotators, items


def test_project_alpha_equals_the_krippendorff_package(ranking_project):
    project, annotators, items = ranking_project
    matrix = np.array([
        [r for ranks in ORDERS for r in ranks],
        [r for ranks in ORDERS for r in ranks],
        [r for ranks in ORDERS for r in ranks],
        [5 - r for ranks in ORDERS for r in ranks],
    ], dtype=float)
    result = project_alpha(project)
    assert result["level"] == "ordinal"
    assert result["n_units"] == 24
    assert result["alpha"] == pytest.approx(krippendorff.alpha(matrix, level_of_measurement="ordinal"), abs=1e-9)
    assert -1 <= result["low"] < result["high"] <= 1


def test_annotator_table_ranks_the_contrarian_last_and_reads_gold_and_flags(ranking_project):
    project, (first, second, _, contrarian), items = ranking_project
    gold = ItemFactory(project=project, is_gold=True, gold_answer=[1, 2, 3, 4])
    judge(gold, first, ranks=[1, 2, 3, 4])
    judge(gold, contrarian, ranks=[4, 3, 2, 1])
    AnnotatorFlag.objects.create(
        project=project, annotator=contrarian, kind=AnnotatorFlag.Kind.RANDOM, reason="No better than chance.",
        statistic=0.1, computed_at=timezone.now(),
    )
    Membership.objects.filter(project=project, user=second).update(is_suspended=True)
    rows = {row["username"]: row for row in annotator_table(project)}
    assert rows[first.username]["judgements"] == 7
    assert rows[first.username]["agreement"] > 0 > rows[contrarian.username]["agreement"]
    assert rows[first.username]["median_seconds"] == pytest.approx(13.0)  # 10..15 and the gold item's 20
    assert rows[first.username]["gold_accuracy"] == 1.0
    assert rows[contrarian.username]["gold_accuracy"] == 0.0
    assert rows[second.username]["gold_accuracy"] is None
    assert [flag.kind for flag in rows[contrarian.username]["flags"]] == ["random"]
    assert rows[second.username]["is_suspended"] and not rows[first.username]["is_suspended"]
    assert annotator_table(project)[0]["username"] == contrarian.username  # flagged rows first


def test_agreement_over_time_windows_cover_every_judgement_in_order(ranking_project):
    project, annotators, items = ranking_project
    windows = agreement_over_time(project, windows=4)
    assert [w["judgements"] for w in windows] == [6, 6, 6, 6]
    assert windows[0]["start"] <= windows[0]["end"] <= windows[1]["start"] <= windows[3]["end"]
    # The contrarian judged last, so the last window agrees worst.
    assert windows[0]["agreement"] > 0 > windows[3]["agreement"]


def test_empty_project_has_members_but_no_numbers():
    project = ProjectFactory()
    annotators_of(project, 2)
    stats = dashboard_stats(project)
    assert stats["alpha"]["alpha"] is None and stats["alpha"]["n_units"] == 0
    assert stats["over_time"] == []
    assert [row["judgements"] for row in stats["annotators"]] == [0, 0]
    assert stats["progress"] == {"total": 0, "done": 0, "judgements": 0, "wanted": 0, "share": 0.0}


def test_pairwise_all_agree_leaves_alpha_undefined_and_progress_counts():
    project = ProjectFactory(overlap=2)
    a, b = annotators_of(project, 2)
    items = [ItemFactory(project=project) for _ in range(3)]
    for item in items[:2]:
        judge(item, a, ranks=[1, 2])
        judge(item, b, ranks=[1, 2])
    Judgement.objects.model.item.field.related_model.objects.filter(pk__in=[i.pk for i in items[:2]]).update(judgement_count=2)
    assert project_alpha(project)["alpha"] is None
    assert project_progress(project) == {"total": 3, "done": 2, "judgements": 4, "wanted": 6, "share": 4 / 6}


def test_rating_projects_use_interval_alpha_and_former_members_keep_their_row():
    project = ProjectFactory(task_mode=TaskMode.RATING)
    a, b = annotators_of(project, 2)
    outsider = UserFactory(username="left-the-project")
    item = ItemFactory(project=project)
    judge(item, a, ratings=[5, 1])
    judge(item, b, ratings=[4, 2])
    judge(item, outsider, ratings=[1, 5])
    assert project_alpha(project)["level"] == "interval"
    expected = krippendorff.alpha([[5, 1], [4, 2], [1, 5]], level_of_measurement="interval")
    assert project_alpha(project)["alpha"] == pytest.approx(expected, abs=1e-9)
    rows = {row["username"]: row for row in annotator_table(project)}
    assert rows["left-the-project"]["is_member"] is False
    assert rows["left-the-project"]["judgements"] == 1


def test_dashboard_stats_are_recomputed_after_a_new_judgement(ranking_project):
    project, annotators, items = ranking_project
    before = dashboard_stats(project)
    extra = ItemFactory(project=project)
    judge(extra, annotators[0], ranks=[1, 2, 3, 4])
    after = dashboard_stats(project)
    assert after["progress"]["judgements"] == before["progress"]["judgements"] + 1
