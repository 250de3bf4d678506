"""The staff dashboard pages, through the test client."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from annotate.models import AnnotatorFlag, Membership, TaskMode
from tests.annotate.test_project_stats import judge
from tests.factories import ItemFactory, ProjectFactory, UserFactory, annotators_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


@pytest.fixture
def judged_project():
    project = ProjectFactory(task_mode=TaskMode.PAIRWISE, slug="pairs")
    annotators = annotators_of(project, 3)
    for n in range(4):
        item = ItemFactory(project=project)
        for annotator, ranks in zip(annotators, [[1, 2], [1, 2], [2, 1] if n % 2 else [1, 2]]):
            judge(item, annotator, ranks=ranks, seconds=12.5, minutes_ago=10 - n)
    AnnotatorFlag.objects.create(
        project=project, annotator=annotators[2], kind=AnnotatorFlag.Kind.POSITION_BIAS,
        reason="Picked the response shown first in 9 of 10 pairs.", statistic=0.9, computed_at=timezone.now(),
    )
    return project, annotators


def test_dashboard_shows_progress_alpha_time_and_annotators(admin_client, judged_project):
    project, annotators = judged_project
    response = admin_client.get(reverse("project_dashboard", args=[project.slug]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>12</strong> of 12 judgements" in page
    assert "Krippendorff" in page and "95% interval" in page
    assert "<polyline" in page  # the agreement-over-time line
    for annotator in annotators:
        assert reverse("annotator_dashboard", args=[project.slug, annotator.pk]) in page
    assert "Position bias" in page and "Picked the response shown first" in page
    assert "12.5 s" in page
    assert f"{annotators[0].username} and {annotators[2].username}: " in page  # a cell of who-agrees-with-whom


def test_dashboard_of_an_empty_project_explains_the_missing_numbers(admin_client):
    project = ProjectFactory(slug="empty")
    response = admin_client.get(reverse("project_dashboard", args=[project.slug]))
    assert response.status_code == 200
    assert "Not defined yet" in response.content.decode()
    assert "No members or judgements yet" in response.content.decode()


def test_annotator_page_lists_their_judgements_and_flags(admin_client, judged_project):
    project, annotators = judged_project
    response = admin_client.get(reverse("annotator_dashboard", args=[project.slug, annotators[2].pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("item-") >= 4
    assert "Picked the response shown first in 9 of 10 pairs." in page
    assert "Suspend" in page and "Exclude their judgements from exports" in page
    stranger = UserFactory(username="stranger")
    assert admin_client.get(reverse("annotator_dashboard", args=[project.slug, stranger.pk])).status_code == 404


@pytest.mark.parametrize(
    "action, field, value",
    [("suspend", "is_suspended", True), ("exclude", "exclude_from_exports", True)],
)
def test_staff_can_suspend_and_exclude_and_undo(admin_client, judged_project, action, field, value):
    project, annotators = judged_project
    url = reverse("annotator_status", args=[project.slug, annotators[0].pk])
    response = admin_client.post(url, {"action": action}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("annotator_dashboard", args=[project.slug, annotators[0].pk])
    membership = Membership.objects.get(project=project, user=annotators[0])
    assert getattr(membership, field) is value
    assert "is now" in response.content.decode()
    undo = {"suspend": "reinstate", "exclude": "include"}[action]
    admin_client.post(url, {"action": undo, "return_to": "dashboard"})
    membership.refresh_from_db()
    assert getattr(membership, field) is not value


def test_status_changes_refuse_bad_requests(admin_client, judged_project):
    project, annotators = judged_project
    url = reverse("annotator_status", args=[project.slug, annotators[0].pk])
    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url, {"action": "delete"}, follow=True)
    assert "unknown action" in response.content.decode()
    outsider = UserFactory(username="outsider")
    assert admin_client.post(reverse("annotator_status", args=[project.slug, outsider.pk]), {"action": "suspend"}).status_code == 404
    assert not Membership.objects.filter(project=project, is_suspended=True).exists()


def test_non_staff_are_sent_to_log_in_and_change_nothing(client, judged_project):
    project, annotators = judged_project
    pages = [
        reverse("project_dashboard", args=[project.slug]),
        reverse("annotator_dashboard", args=[project.slug, annotators[0].pk]),
    ]
    for url in pages:
        assert client.get(url).status_code == 302
    client.force_login(annotators[0])
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    client.post(reverse("annotator_status", args=[project.slug, annotators[1].pk]), {"action": "suspend"})
    assert not Membership.objects.filter(project=project, is_suspended=True).exists()


def test_admin_project_page_links_to_the_dashboard(admin_client, judged_project):
    project, _ = judged_project
    response = admin_client.get(reverse("admin:annotate_project_change", args=[project.pk]))
    assert reverse("project_dashboard", args=[project.slug]) in response.content.decode()
