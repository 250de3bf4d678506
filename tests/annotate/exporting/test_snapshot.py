import json

import pytest

from annotate.export import ExportOptionsError, SnapshotError, build_snapshot, create_snapshot
from annotate.models import Membership, Snapshot, TaskMode
from tests.factories import ItemFactory, ProjectFactory, UserFactory, annotators_of, make_judgement

pytestmark = pytest.mark.django_db


def ranking_project(items: int = 12, annotators: int = 3):
    """Every annotator ranks each item's 4 responses best-first in canonical order."""
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    users = annotators_of(project, annotators)
    for _ in range(items):
        item = ItemFactory(project=project)
        for user in users:
            make_judgement(item, user, ranks=[1, 2, 3, 4])
    return project, users


def read_jsonl(snapshot, split="train"):
    return [json.loads(line) for line in (snapshot.path / "jsonl" / f"{split}.jsonl").read_text().splitlines()]


def test_a_snapshot_is_built_with_its_files_manifest_and_hash():
    project, users = ranking_project()
    snapshot = create_snapshot(project, created_by=users[0])
    assert snapshot.status == Snapshot.Status.READY and snapshot.progress == 1.0
    assert snapshot.path.is_dir() and snapshot.folder.startswith(project.slug)
    manifest = json.loads((snapshot.path / "manifest.json").read_text())
    assert manifest["sha256"] == snapshot.sha256 and len(snapshot.sha256) == 64
    assert set(manifest["files"]) >= {"jsonl/train.jsonl", "jsonl/test.jsonl", "parquet/train.parquet", "parquet/test.parquet",
                                      "hf/dataset_dict.json"}
    assert manifest["annotators"] == sorted(user.username for user in users) == snapshot.annotators
    assert manifest["options"]["mode"] == "per_annotator" and manifest["code_version"]
    rows = snapshot.counts["rows"]
    assert rows["train"] + rows["test"] == 12 * 3 * 6
    assert len(read_jsonl(snapshot, "train")) == rows["train"]


def test_same_inputs_give_the_same_hash_and_other_inputs_another():
    project, _ = ranking_project()
    first, second = create_snapshot(project), create_snapshot(project)
    assert first.folder != second.folder
    assert first.sha256 == second.sha256
    assert json.loads((first.path / "manifest.json").read_text())["files"] == json.loads((second.path / "manifest.json").read_text())["files"]
    assert create_snapshot(project, options={"split_seed": "other"}).sha256 != first.sha256


def test_bad_options_are_refused_before_any_row_is_made():
    project, _ = ranking_project(items=1)
    with pytest.raises(ExportOptionsError) as caught:
        create_snapshot(project, options={"mode": "majority", "min_agreement": 2, "colour": "red"})
    assert set(caught.value.errors) == {"colour"}
    with pytest.raises(ExportOptionsError) as caught:
        create_snapshot(project, options={"mode": "majority", "min_agreement": 2})
    assert set(caught.value.errors) == {"mode", "min_agreement"}
    assert "per_annotator" in caught.value.errors["mode"]
    assert not Snapshot.objects.exists()


def test_a_snapshot_is_built_once():
    project, _ = ranking_project(items=1)
    snapshot = create_snapshot(project)
    with pytest.raises(SnapshotError, match="built once"):
        build_snapshot(snapshot)


def test_a_failed_build_leaves_no_files_and_says_why(snapshot_dir):
    project, _ = ranking_project(items=1)
    snapshot_dir.mkdir(parents=True)
    (snapshot_dir / project.slug).write_text("a file where the project's folder should be")
    with pytest.raises(SnapshotError):
        create_snapshot(project)
    snapshot = Snapshot.objects.get()
    assert snapshot.status == Snapshot.Status.FAILED and snapshot.error
    assert list((snapshot_dir / ".building").iterdir()) == []


def test_suspended_and_excluded_annotators_are_left_out():
    project, (kept, suspended, excluded) = ranking_project(items=3)
    Membership.objects.filter(user=suspended).update(is_suspended=True)
    Membership.objects.filter(user=excluded).update(exclude_from_exports=True)
    snapshot = create_snapshot(project, options={"test_fraction": 0.0})
    assert snapshot.annotators == [kept.username]
    assert snapshot.counts["judgements"] == 3 and snapshot.counts["judgements_excluded"] == 6
    assert len(read_jsonl(snapshot)) == 3 * 6
    with_suspended = create_snapshot(project, options={"exclude_suspended": False, "test_fraction": 0.0})
    assert with_suspended.annotators == sorted([kept.username, suspended.username])


def test_the_exported_annotator_list_names_only_contributors():
    project, users = ranking_project(items=2, annotators=2)
    Membership.objects.create(project=project, user=UserFactory(username="idle"))
    assert create_snapshot(project).annotators == sorted(user.username for user in users)
