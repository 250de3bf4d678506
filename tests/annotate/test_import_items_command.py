"""`manage.py import_items`: prints the report, exits non-zero when anything is wrong."""
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotate.models import Item
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_items", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def items_file(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps({"id": f"i{n}", "prompt": "p", "responses": ["a", "b"]}) + "\n" for n in range(3)))
    return path


def test_imports_and_prints_the_counts(items_file):
    project = ProjectFactory()

    out, _ = run(project.slug, str(items_file))

    assert "3 item(s) were created" in out
    assert Item.objects.filter(project=project).count() == 3


def test_dry_run_and_on_duplicate_are_passed_through(items_file):
    project = ProjectFactory()
    run(project.slug, str(items_file))

    out, _ = run(project.slug, str(items_file), "--on-duplicate", "skip", "--dry-run")

    assert "0 item(s) would be created, 0 updated, 0 unchanged, 3 skipped" in out


def test_bad_lines_go_to_stderr_and_the_command_fails(tmp_path):
    project = ProjectFactory()
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "p", "responses": ["a"]}\n{"prompt": 3, "responses": ["a", "b"]}\n')
    err = StringIO()
    with pytest.raises(CommandError, match=r"2 bad line\(s\); nothing was imported"):
        call_command("import_items", project.slug, str(path), stderr=err)

    assert err.getvalue().splitlines() == [
        "line 1: responses: an item needs at least 2 responses, this one has 1",
        'line 2: prompt: must be a string or a list of {"role", "content"} messages, not a number',
    ]
    assert not Item.objects.exists()


def test_unknown_project_and_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="no project with slug 'nope'"):
        run("nope", str(tmp_path / "x.jsonl"))
    with pytest.raises(CommandError, match="1 bad line"):
        run(ProjectFactory().slug, str(tmp_path / "missing.jsonl"))


def test_notes_are_printed(tmp_path):
    path = tmp_path / "pandalm.json"
    row = {"idx": 1, "instruction": "Answer yes or no", "input": "", "cmp_key": "a_b", "response1": True, "response2": "no",
           "annotator1": 1, "annotator2": 1, "annotator3": 0}
    path.write_text(json.dumps([row]))

    out, _ = run(ProjectFactory().slug, str(path))

    assert "note: line 1: response1 is the boolean true; imported as the text 'True'" in out
