"""The admin's "Import items" page, driven as a staff user through Django's test client."""
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotate.models import Item
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def upload(name: str, *records) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "".join(json.dumps(r) + "\n" for r in records).encode())


def good(n: int) -> dict:
    return {"id": f"g{n}", "prompt": f"Question {n}", "responses": ["a", "b"]}


@pytest.fixture
def project():
    return ProjectFactory()


def import_url(project) -> str:
    return reverse("admin:annotate_project_import_items", args=[project.pk])


def test_the_project_change_page_links_to_the_import_page(admin_client, project):
    page = admin_client.get(reverse("admin:annotate_project_change", args=[project.pk]))

    assert page.status_code == 200
    assert f'href="{import_url(project)}"' in page.content.decode()


def test_the_import_page_offers_file_format_duplicates_and_dry_run(admin_client, project):
    page = admin_client.get(import_url(project)).content.decode()

    for field in ('type="file" name="file"', 'name="format"', 'name="on_duplicate"', 'name="dry_run"', 'value="wmt16"'):
        assert field in page


def test_an_upload_imports_and_shows_the_counts(admin_client, project):
    page = admin_client.post(import_url(project), {"file": upload("items.jsonl", good(1), good(2)), "format": "auto",
                                                   "on_duplicate": "reject"})

    assert page.status_code == 200
    assert "2 item(s) were created" in page.content.decode()
    assert Item.objects.filter(project=project).count() == 2


def test_bad_lines_are_listed_and_nothing_is_imported(admin_client, project):
    page = admin_client.post(import_url(project), {
        "file": upload("items.jsonl", good(1), {"prompt": "p", "responses": ["only"]}, good(1)),
        "format": "auto", "on_duplicate": "reject",
    }).content.decode()

    assert "2 bad line(s); nothing was imported." in page
    assert "<td>2</td><td><code>responses</code></td><td>an item needs at least 2 responses, this one has 1</td>" in page
    assert "<td>3</td><td><code>id</code></td><td>&#x27;g1&#x27; is already used on line 1</td>" in page
    assert not Item.objects.exists()


def test_a_dry_run_reports_and_saves_nothing(admin_client, project):
    page = admin_client.post(import_url(project), {"file": upload("items.jsonl", good(1)), "format": "native",
                                                   "on_duplicate": "skip", "dry_run": "on"}).content.decode()

    assert "1 item(s) would be created" in page
    assert not Item.objects.exists()


def test_a_form_without_a_file_is_shown_again_with_the_error(admin_client, project):
    page = admin_client.post(import_url(project), {"format": "auto", "on_duplicate": "reject"}).content.decode()

    assert "This field is required." in page
    assert not Item.objects.exists()


def test_staff_without_permission_to_add_items_is_refused(client, project):
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_project"))
    client.force_login(user)

    assert client.get(import_url(project)).status_code == 403


def test_anonymous_users_are_sent_to_the_admin_login(client, project):
    response = client.get(import_url(project))

    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
