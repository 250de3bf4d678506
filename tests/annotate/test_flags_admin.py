"""The admin side of flags: the flag list with its filters, and suspending or excluding annotators."""
import pytest
from django.urls import reverse
from django.utils import timezone

from annotate.models import AnnotatorFlag, Membership
from tests.factories import ProjectFactory, annotators_of

pytestmark = pytest.mark.django_db


def flag(project, annotator, kind, reason, is_active=True):
    return AnnotatorFlag.objects.create(
        project=project, annotator=annotator, kind=kind, reason=reason, statistic=0.8, p_value=0.001,
        computed_at=timezone.now(), is_active=is_active,
    )


def test_flag_list_filters_by_project_kind_and_active(admin_client):
    project, other = ProjectFactory(), ProjectFactory()
    alice, bob = annotators_of(project, 2)
    [carol] = annotators_of(other, 1)
    flag(project, alice, "position_bias", "Picked the first-shown response in 41 of 50 pairs (82%); chance is 50%.")
    flag(project, bob, "too_fast", "Took a median 1.0 s per judgement", is_active=False)
    flag(other, carol, "position_bias", "Picked the first-shown response in 45 of 50 pairs (90%); chance is 50%.")
    url = reverse("admin:annotate_annotatorflag_changelist")

    page = admin_client.get(url, {"project__id__exact": project.pk, "kind": "position_bias", "is_active__exact": 1})

    assert page.status_code == 200
    text = page.content.decode()
    assert "41 of 50 pairs" in text
    assert "45 of 50 pairs" not in text and "median 1.0 s" not in text


def test_membership_actions_suspend_and_exclude_from_exports(admin_client):
    project = ProjectFactory()
    alice, bob = annotators_of(project, 2)
    url = reverse("admin:annotate_membership_changelist")
    alice_membership = Membership.objects.get(project=project, user=alice)

    admin_client.post(url, {"action": "suspend", "_selected_action": [alice_membership.pk]})
    admin_client.post(url, {"action": "exclude_from_exports", "_selected_action": [alice_membership.pk]})

    states = dict(Membership.objects.values_list("user__username", "is_suspended"))
    assert states == {alice.username: True, bob.username: False}
    alice_membership.refresh_from_db()
    assert alice_membership.exclude_from_exports

    admin_client.post(url, {"action": "reinstate", "_selected_action": [alice_membership.pk]})
    admin_client.post(url, {"action": "include_in_exports", "_selected_action": [alice_membership.pk]})
    alice_membership.refresh_from_db()
    assert not alice_membership.is_suspended and not alice_membership.exclude_from_exports


def test_suspending_from_the_flag_list_touches_only_that_project(admin_client):
    project, other = ProjectFactory(), ProjectFactory()
    [alice] = annotators_of(project, 1)
    Membership.objects.create(project=other, user=alice)
    flagged = flag(project, alice, "random", "Agreed with the other annotators' majority in 12 of 50 pairs (24%).")
    url = reverse("admin:annotate_annotatorflag_changelist")

    page = admin_client.post(url, {"action": "suspend_annotators", "_selected_action": [flagged.pk]}, follow=True)
    admin_client.post(url, {"action": "exclude_annotators_from_exports", "_selected_action": [flagged.pk]})

    assert "Suspended 1 annotator(s)." in page.content.decode()
    memberships = Membership.objects.filter(user=alice)
    assert dict(memberships.values_list("project_id", "is_suspended")) == {project.pk: True, other.pk: False}
    assert dict(memberships.values_list("project_id", "exclude_from_exports")) == {project.pk: True, other.pk: False}


def test_flags_cannot_be_added_by_hand(admin_client):
    assert admin_client.get(reverse("admin:annotate_annotatorflag_add")).status_code == 403
