"""The admin's export page and action, and the read-only Snapshot pages with their downloads."""
import json

import pytest
from django.urls import reverse

from annotate.export import create_snapshot
from annotate.models import Snapshot, TaskMode
from tests.factories import ItemFactory, ProjectFactory, UserFactory, annotators_of, judgement_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    (user,) = annotators_of(project, 1)
    judgement_of(ItemFactory(project=project), user, ranks=[1, 2, 3, 4])
    return project


def export_url(project) -> str:
    return reverse("admin:annotate_project_export_snapshot", args=[project.pk])


def test_the_project_page_links_to_the_export_page_which_offers_every_option(admin_client, project):
    change_page = admin_client.get(reverse("admin:annotate_project_change", args=[project.pk])).content.decode()
    assert f'href="{export_url(project)}"' in change_page
    page = admin_client.get(export_url(project)).content.decode()
    for name in ("kind", "mode", "ties", "rating_gap", "format", "include_margin", "exclude_suspended", "exclude_gold",
                 "min_agreement", "deduplicate", "test_fraction", "split_seed", "also", "file_formats"):
        assert f'name="{name}"' in page


def test_the_action_opens_the_export_page_with_the_other_selected_projects(admin_client, project):
    other = ProjectFactory()
    response = admin_client.post(
        reverse("admin:annotate_project_changelist"),
        {"action": "export_snapshot_action", "_selected_action": [project.pk, other.pk]},
    )
    assert response.status_code == 302 and response.url == f"{export_url(project)}?also={other.pk}"
    page = admin_client.get(response.url).content.decode()
    assert f'value="{other.pk}" checked' in page or f'value="{other.pk}" selected' in page


def test_posting_the_form_queues_a_pending_snapshot_with_those_options(admin_client, admin_user, project):
    other = ProjectFactory()
    form = {"kind": "pairs", "mode": "consensus", "ties": "keep", "rating_gap": "2", "format": "conversational",
            "include_margin": "on", "exclude_gold": "on", "min_agreement": "0.5", "test_fraction": "0.2",
            "split_seed": "abc", "also": [other.pk], "file_formats": ["jsonl", "parquet"]}
    response = admin_client.post(export_url(project), form)
    snapshot = Snapshot.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:annotate_snapshot_change", args=[snapshot.pk])
    assert snapshot.status == Snapshot.Status.PENDING and snapshot.created_by == admin_user
    assert snapshot.options["mode"] == "consensus" and snapshot.options["ties"] == "keep"
    assert snapshot.options["project_ids"] == [other.pk] and snapshot.options["file_formats"] == ["jsonl", "parquet"]
    assert snapshot.options["exclude_suspended"] is False and snapshot.options["split_seed"] == "abc"
    page = admin_client.get(response.url).content.decode()
    assert 'http-equiv="refresh"' in page


def test_bad_options_come_back_on_the_form(admin_client, project):
    page = admin_client.post(export_url(project), {"kind": "pairs", "mode": "consensus", "ties": "drop", "rating_gap": "0",
                                                   "format": "standard", "min_agreement": "0", "test_fraction": "0",
                                                   "split_seed": "0", "file_formats": ["jsonl"]})
    assert page.status_code == 200 and "must be a number above 0" in page.content.decode()
    assert not Snapshot.objects.exists()


def test_a_ready_snapshot_lists_and_downloads_its_files(admin_client, project):
    snapshot = create_snapshot(project, options={"file_formats": ["jsonl"]})
    listing = admin_client.get(reverse("admin:annotate_snapshot_changelist")).content.decode()
    assert snapshot.sha256[:12] in listing and "100%" in listing
    page = admin_client.get(reverse("admin:annotate_snapshot_change", args=[snapshot.pk])).content.decode()
    manifest_url = reverse("admin:annotate_snapshot_download", args=[snapshot.pk, "manifest.json"])
    assert manifest_url in page and "jsonl/train.jsonl" in page and 'http-equiv="refresh"' not in page
    manifest = json.loads(b"".join(admin_client.get(manifest_url).streaming_content))
    assert manifest["sha256"] == snapshot.sha256
    train = admin_client.get(reverse("admin:annotate_snapshot_download", args=[snapshot.pk, "jsonl/train.jsonl"]))
    assert b"".join(train.streaming_content) == (snapshot.path / "jsonl" / "train.jsonl").read_bytes()


@pytest.mark.parametrize("name", ["../manifest.json", "jsonl/../../secret", "parquet/train.parquet", "settings.py"])
def test_only_files_the_manifest_lists_can_be_downloaded(admin_client, project, name):
    snapshot = create_snapshot(project, options={"file_formats": ["jsonl"]})
    assert admin_client.get(reverse("admin:annotate_snapshot_download", args=[snapshot.pk, name])).status_code == 404


def test_snapshots_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, project):
    snapshot = create_snapshot(project, options={"file_formats": ["jsonl"]})
    assert admin_client.get(reverse("admin:annotate_snapshot_add")).status_code == 403
    assert admin_client.post(reverse("admin:annotate_snapshot_delete", args=[snapshot.pk]), {"post": "yes"}).status_code == 403
    assert Snapshot.objects.filter(pk=snapshot.pk).exists()


def test_a_staff_user_without_the_snapshot_permission_cannot_export(client, project):
    client.force_login(UserFactory(username="viewer", is_staff=True))
    assert client.get(export_url(project)).status_code == 403
