import pytest

from annotate.models import Membership
from annotate.moderation import apply_membership_action
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_each_action_sets_only_its_own_switch():
    membership = MembershipFactory()
    project, user = membership.project, membership.user
    apply_membership_action(project, user.pk, "suspend")
    apply_membership_action(project, user.pk, "exclude")
    membership.refresh_from_db()
    assert membership.is_suspended and membership.exclude_from_exports
    apply_membership_action(project, user.pk, "reinstate")
    membership.refresh_from_db()
    assert not membership.is_suspended and membership.exclude_from_exports
    apply_membership_action(project, user.pk, "include")
    membership.refresh_from_db()
    assert not membership.exclude_from_exports


def test_unknown_actions_and_non_members_are_refused():
    membership = MembershipFactory()
    with pytest.raises(ValueError, match="unknown action 'ban'"):
        apply_membership_action(membership.project, membership.user.pk, "ban")
    with pytest.raises(Membership.DoesNotExist):
        apply_membership_action(ProjectFactory(), UserFactory().pk, "suspend")
