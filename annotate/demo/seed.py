"""The demo: an admin, two annotators, and two projects written for it, loaded through the importer.

Seeding twice leaves the same state: users and projects are matched by name and slug, and
the items are re-imported with on_duplicate="update".
"""
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from annotate.importing import ImportReport, import_items
from annotate.models import Membership, Project, TaskMode
from training.demo import seed_training_demo

DEMO_DIR = Path(__file__).resolve().parent
ADMIN = "admin"
ANNOTATORS = ("alice", "bob")
PROJECTS = {
    "demo-pairwise": {
        "file": "pairwise.jsonl",
        "name": "Demo: which answer is better?",
        "task_mode": TaskMode.PAIRWISE,
        "allow_ties": True,
        "overlap": 2,
        "guidelines": (
            "Pick the response that **answers the question correctly**; among correct ones, prefer the clearer "
            "and more concise.\n\n- Code must run and do what was asked.\n- Choose *tie* when both are equally good "
            "(or equally bad)."
        ),
    },
    "demo-ranking": {
        "file": "ranking.jsonl",
        "name": "Demo: rank four answers",
        "task_mode": TaskMode.RANKING,
        "allow_ties": True,
        "overlap": 2,
        "guidelines": (
            "Rank the four responses from best (1) to worst (4).\n\n1. Correctness first.\n2. Then completeness.\n"
            "3. Then clarity and formatting.\n\nGive equal ranks only when two responses are truly as good."
        ),
    },
}


@transaction.atomic
def seed_demo(admin_password: str, annotator_password: str) -> dict[str, ImportReport]:
    """Create or refresh the demo users and projects; the import report of each project, by slug."""
    admin = _user(ADMIN, admin_password, is_staff=True, is_superuser=True)
    annotators = [_user(name, annotator_password) for name in ANNOTATORS]
    reports = {}
    for slug, spec in PROJECTS.items():
        fields = {key: value for key, value in spec.items() if key != "file"}
        project, _ = Project.objects.update_or_create(slug=slug, defaults=fields)
        Membership.objects.update_or_create(project=project, user=admin, defaults={"role": Membership.Role.ADMIN})
        for user in annotators:
            Membership.objects.get_or_create(project=project, user=user)
        report = import_items(project, DEMO_DIR / spec["file"], on_duplicate="update")
        if not report.ok:
            raise ValueError(f"the demo file {spec['file']} does not import: " + "; ".join(map(str, report.errors[:5])))
        reports[slug] = report
    seed_training_demo(admin)
    return reports


def _user(username: str, password: str, **flags: bool):
    user, _ = get_user_model().objects.get_or_create(username=username)
    for flag, value in flags.items():
        setattr(user, flag, value)
    user.set_password(password)
    user.save()
    return user
