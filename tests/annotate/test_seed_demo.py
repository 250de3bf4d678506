"""`manage.py seed_demo`: the demo projects, their items and logins, and that seeding twice changes nothing."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotate.models import Item, Membership, Project, Response, TaskMode
from training.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dirs(settings, tmp_path):
    # The demo also writes a snapshot and queues a training run (training.demo).
    settings.SNAPSHOT_DIR, settings.RUNS_DIR = tmp_path / "snapshots", tmp_path / "runs"


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_seeds_two_projects_with_at_least_30_prompts_of_2_to_4_responses():
    seed()

    pairwise, ranking = Project.objects.get(slug="demo-pairwise"), Project.objects.get(slug="demo-ranking")
    assert (pairwise.task_mode, pairwise.allow_ties, ranking.task_mode) == (TaskMode.PAIRWISE, True, TaskMode.RANKING)
    assert Item.objects.filter(project__in=[pairwise, ranking]).count() >= 30
    counts = {item.external_id: item.responses.count() for item in Item.objects.all()}
    assert all(2 <= count <= 4 for count in counts.values())
    assert {item.responses.count() for item in ranking.items.all()} == {4}
    assert {item.responses.count() for item in pairwise.items.all()} == {2}


def test_responses_include_markdown_tables_lists_and_code_in_three_languages():
    seed()

    texts = list(Response.objects.values_list("text", flat=True))
    for marker in ("```python", "```sql", "```bash", "| --- |", "\n- ", "\n2. "):
        assert any(marker in text for text in texts), marker
    assert Item.objects.filter(prompt__0__role="system").exists()


def test_gold_items_carry_answers_that_fit_their_items():
    seed()

    gold = Item.objects.filter(is_gold=True)
    assert gold.filter(project__slug="demo-pairwise").count() >= 2 and gold.filter(project__slug="demo-ranking").exists()
    assert all(len(item.gold_answer) == item.responses.count() and min(item.gold_answer) == 1 for item in gold)


def test_users_can_log_in_with_the_printed_passwords(settings):
    settings.DEMO_ADMIN_PASSWORD, settings.DEMO_ANNOTATOR_PASSWORD = "admin-secret", "annotator-secret"

    out = seed(url="http://demo.example/")

    users = get_user_model().objects
    admin = users.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("admin-secret")
    for name in ("alice", "bob"):
        annotator = users.get(username=name)
        assert not annotator.is_staff and annotator.check_password("annotator-secret")
        assert Membership.objects.filter(user=annotator, role=Membership.Role.ANNOTATOR).count() == 2
    assert "http://demo.example/admin/" in out
    assert "admin / admin-secret" in out and "alice / annotator-secret" in out and "bob / annotator-secret" in out


def test_seeding_again_changes_nothing():
    seed()
    before = sorted(Item.objects.values_list("pk", "external_id", "prompt"))

    out = seed()

    assert "0 item(s) were created, 0 updated, 18 unchanged" in out
    assert sorted(Item.objects.values_list("pk", "external_id", "prompt")) == before
    # The three logins and the training demo's simulated annotator; the two projects and the training demo's.
    assert get_user_model().objects.count() == 4 and Project.objects.count() == 3
    assert Run.objects.count() == 1


def test_without_debug_the_passwords_must_be_given(settings):
    settings.DEMO_ADMIN_PASSWORD = None

    with pytest.raises(CommandError, match="set DEMO_ADMIN_PASSWORD and DEMO_ANNOTATOR_PASSWORD"):
        seed()
    assert not get_user_model().objects.exists()
