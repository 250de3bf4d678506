import hashlib
import json

import pytest
from django.utils import timezone

from annotate.export import ExportOptionsError, SnapshotError, build_snapshot, create_snapshot
from annotate.models import AnnotatorFlag, Membership, Snapshot, TaskMode
from tests.factories import ItemFactory, ProjectFactory, UserFactory, annotators_of, judgement_of

pytestmark = pytest.mark.django_db


def ranking_project(items: int = 12, annotators: int = 3):
    """Every annotator ranks each item's 4 responses best-first in canonical order."""
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    users = annotators_of(project, annotators)
    for _ in range(items):
        item = ItemFactory(project=project)
        for user in users:
            judgement_of(item, user, ranks=[1, 2, 3, 4])
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


def test_the_manifest_gives_each_file_its_sha256_and_size_on_disk():
    # JSONL files and HF shards are hashed by their writers, the others read back: all must match the bytes.
    project, _ = ranking_project()
    snapshot = create_snapshot(project, options={"test_fraction": 0.5})
    files = json.loads((snapshot.path / "manifest.json").read_text())["files"]
    assert snapshot.counts["rows"]["test"] > 0 and {
        "jsonl/train.jsonl", "jsonl/test.jsonl", "parquet/train.parquet", "hf/train/data-00000-of-00001.arrow"
    } <= set(files)
    for name, entry in files.items():
        data = (snapshot.path / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name


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


def jsonl_only(**options):
    return {"file_formats": ["jsonl"], "test_fraction": 0.0, **options}


def test_the_split_keeps_each_item_on_one_side_and_is_deterministic():
    project, _ = ranking_project(items=40, annotators=2)
    snapshot = create_snapshot(project, options={"file_formats": ["jsonl"], "test_fraction": 0.3})
    train_prompts = {row["prompt"] for row in read_jsonl(snapshot, "train")}
    test_prompts = {row["prompt"] for row in read_jsonl(snapshot, "test")}
    assert train_prompts and test_prompts and not train_prompts & test_prompts
    assert len(train_prompts | test_prompts) == 40
    again = create_snapshot(project, options={"file_formats": ["jsonl"], "test_fraction": 0.3})
    assert {row["prompt"] for row in read_jsonl(again, "test")} == test_prompts
    reseeded = create_snapshot(project, options={"file_formats": ["jsonl"], "test_fraction": 0.3, "split_seed": "1"})
    assert {row["prompt"] for row in read_jsonl(reseeded, "test")} != test_prompts


def test_gold_items_are_left_out_unless_asked_for():
    project, users = ranking_project(items=1, annotators=1)
    gold = ItemFactory(project=project, is_gold=True, gold_answer=[1, 2, 3, 4])
    judgement_of(gold, users[0], ranks=[1, 2, 3, 4])
    assert create_snapshot(project, options=jsonl_only()).counts["rows"]["train"] == 6
    assert create_snapshot(project, options=jsonl_only(exclude_gold=False)).counts["rows"]["train"] == 12


def test_margin_can_be_left_out_and_agreement_added():
    project, _ = ranking_project(items=1, annotators=2)
    without = read_jsonl(create_snapshot(project, options=jsonl_only(include_margin=False)))
    assert set(without[0]) == {"prompt", "chosen", "rejected"}
    with_agreement = read_jsonl(create_snapshot(project, options=jsonl_only(include_agreement=True)))
    assert set(with_agreement[0]) == {"prompt", "chosen", "rejected", "margin", "agreement"}
    assert with_agreement[0]["agreement"] == 1.0


def test_consensus_mode_gives_one_row_per_item_pair():
    project, _ = ranking_project(items=2, annotators=3)
    snapshot = create_snapshot(project, options=jsonl_only(mode="consensus", include_agreement=True))
    rows = read_jsonl(snapshot)
    assert len(rows) == 2 * 6 and {row["agreement"] for row in rows} == {1.0}
    assert rows[0]["chosen"].startswith("Answer 0") and rows[0]["rejected"].startswith("Answer 1")


def test_deduplicate_drops_identical_rows():
    project, _ = ranking_project(items=2, annotators=3)
    snapshot = create_snapshot(project, options=jsonl_only(deduplicate=True))
    assert len(read_jsonl(snapshot)) == 2 * 6 and snapshot.counts["duplicates"] == 2 * 6 * 2


def test_conversational_rows_hold_messages():
    project = ProjectFactory(task_mode=TaskMode.PAIRWISE)
    (user,) = annotators_of(project, 1)
    chat = ItemFactory(project=project, prompt=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}])
    plain = ItemFactory(project=project, prompt="Hello?")
    judgement_of(chat, user, ranks=[2, 1], strength=3)
    judgement_of(plain, user, ranks=[1, 2])
    chat_row, plain_row = read_jsonl(create_snapshot(project, options=jsonl_only(format="conversational")))
    assert chat_row == {
        "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}],
        "chosen": [{"role": "assistant", "content": f"Answer 1 to {chat.external_id}"}],
        "rejected": [{"role": "assistant", "content": f"Answer 0 to {chat.external_id}"}],
        "margin": 1.0,
    }
    assert plain_row["prompt"] == [{"role": "user", "content": "Hello?"}]
    standard_chat_row = read_jsonl(create_snapshot(project, options=jsonl_only()))[0]
    assert standard_chat_row["prompt"] == "System: Be brief.\n\nUser: Hi?\n\nAssistant:"


def test_sft_rows_are_prompt_and_best_completion():
    project, users = ranking_project(items=2, annotators=2)
    rows = read_jsonl(create_snapshot(project, kind="sft", options=jsonl_only(mode="consensus")))
    assert [set(row) for row in rows] == [{"prompt", "completion"}] * 2
    assert all(row["completion"].startswith("Answer 0") for row in rows)
    conversational = read_jsonl(create_snapshot(project, kind="sft", options=jsonl_only(format="conversational")))
    assert len(conversational) == 4 and conversational[0]["completion"][0]["role"] == "assistant"


def test_several_projects_go_into_one_snapshot():
    first, _ = ranking_project(items=2, annotators=1)
    second, _ = ranking_project(items=3, annotators=1)
    snapshot = create_snapshot(first, options=jsonl_only(project_ids=[second.pk]))
    assert snapshot.counts["items"] == 5 and len(read_jsonl(snapshot)) == 5 * 6
    manifest = json.loads((snapshot.path / "manifest.json").read_text())
    assert manifest["projects"] == sorted([first.slug, second.slug])
    with pytest.raises(ExportOptionsError, match="no project has id 999999"):
        create_snapshot(first, options={"project_ids": [999999]})


def test_annotators_with_active_flags_are_left_out_when_asked():
    project, (honest, biased, cleared) = ranking_project(items=2)
    flag = {"project": project, "kind": AnnotatorFlag.Kind.POSITION_BIAS, "reason": "test", "statistic": 0.9,
            "computed_at": timezone.now()}
    AnnotatorFlag.objects.create(annotator=biased, **flag)
    AnnotatorFlag.objects.create(annotator=cleared, is_active=False, **flag)
    assert create_snapshot(project, options={"exclude_flagged": True}).annotators == sorted([honest.username, cleared.username])
    assert len(create_snapshot(project).annotators) == 3



def test_progress_rows_and_counts_survive_a_reload():
    project, _ = ranking_project(items=2, annotators=1)
    snapshot = create_snapshot(project, options=jsonl_only())
    stored = Snapshot.objects.get(pk=snapshot.pk)
    assert (stored.status, stored.progress, stored.sha256, stored.counts) == ("ready", 1.0, snapshot.sha256, snapshot.counts)
