"""`manage.py export_snapshot`: options reach the service, errors exit non-zero with the reason."""
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotate.models import Snapshot, TaskMode
from tests.factories import ItemFactory, ProjectFactory, annotators_of, judgement_of

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("export_snapshot", *args, stdout=out)
    return out.getvalue()


def judged_project(slug):
    project = ProjectFactory(slug=slug, task_mode=TaskMode.RANKING)
    (user,) = annotators_of(project, 1)
    judgement_of(ItemFactory(project=project), user, ranks=[1, 2, 3, 4])
    return project


def test_exports_with_the_options_given_and_prints_where_and_the_hash():
    judged_project("main")
    judged_project("extra")
    out = run("main", "--mode", "consensus", "--format", "conversational", "--no-margin", "--test-fraction", "0",
              "--also", "extra", "--files", "jsonl", "parquet")
    snapshot = Snapshot.objects.get()
    assert f"snapshot #{snapshot.pk}: 12 train and 0 test rows" in out and snapshot.sha256 in out
    options = snapshot.options
    assert (options["mode"], options["format"], options["include_margin"]) == ("consensus", "conversational", False)
    assert options["file_formats"] == ["jsonl", "parquet"] and not (snapshot.path / "hf").exists()
    row = json.loads((snapshot.path / "jsonl" / "train.jsonl").read_text().splitlines()[0])
    assert set(row) == {"prompt", "chosen", "rejected"} and isinstance(row["prompt"], list)


def test_sft_kind():
    judged_project("main")
    run("main", "--kind", "sft", "--files", "jsonl", "--test-fraction", "0")
    assert Snapshot.objects.get().counts["rows"]["train"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "no project with slug 'nowhere'"),
        (["main", "--also", "nowhere"], "no project with slug 'nowhere'"),
        (["main", "--min-agreement", "3"], "min_agreement: must be a number from 0 to 1"),
    ],
)
def test_bad_input_exits_with_the_reason(args, message):
    judged_project("main")
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not Snapshot.objects.exists()
