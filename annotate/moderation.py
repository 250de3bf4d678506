"""What a project admin can do about an annotator: suspend them, or leave their judgements
out of exports. The queue refuses suspended annotators; exports skip excluded ones."""
from .models import Membership, Project

ACTIONS = {
    "suspend": {"is_suspended": True},
    "reinstate": {"is_suspended": False},
    "exclude": {"exclude_from_exports": True},
    "include": {"exclude_from_exports": False},
}


def apply_membership_action(project: Project, user_id: int, action: str) -> Membership:
    """Set the switch `action` names on the annotator's membership; raises
    Membership.DoesNotExist for a non-member and ValueError for an unknown action."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    membership = Membership.objects.get(project=project, user_id=user_id)
    for field, value in ACTIONS[action].items():
        setattr(membership, field, value)
    membership.save(update_fields=list(ACTIONS[action]))
    return membership
