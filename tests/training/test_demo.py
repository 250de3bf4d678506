import pytest

from annotate.models import Judgement, Snapshot
from tests.factories import UserFactory
from training.demo import PROJECT_SLUG, seed_training_demo
from training.engine.config import PRESETS
from training.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dirs(settings, tmp_path):
    settings.SNAPSHOT_DIR, settings.RUNS_DIR = tmp_path / "snapshots", tmp_path / "runs"
    # Flag refreshes are asked for by judgement id, which differs between databases; only the run's enqueue is counted.
    settings.FLAG_REFRESH_EVERY_SUBMITS = 0


def test_the_demo_queues_a_tiny_reward_run_on_a_snapshot_of_judged_marker_items(django_capture_on_commit_callbacks):
    admin = UserFactory(username="demo-admin", is_staff=True, is_superuser=True)
    with django_capture_on_commit_callbacks() as callbacks:
        run = seed_training_demo(admin, items=24)
    assert Judgement.objects.filter(project__slug=PROJECT_SLUG).count() == 24
    assert (run.status, run.kind, run.base_model, run.created_by) == (Run.Status.QUEUED, "reward", "tiny", admin)
    assert run.config["max_steps"] == PRESETS["reward"]["cpu-smoke"]["max_steps"]
    assert run.snapshot.status == Snapshot.Status.READY and (run.snapshot.path / "jsonl" / "train.jsonl").is_file()
    assert len(callbacks) == 1


def test_seeding_again_keeps_the_one_demo_run():
    admin = UserFactory(username="demo-admin")
    first = seed_training_demo(admin, items=8)
    assert seed_training_demo(admin, items=8) == first
    assert Run.objects.count() == Snapshot.objects.count() == 1


def test_the_demo_seeds_again_after_its_database_was_reset_but_its_files_were_kept(settings, tmp_path):
    # A newcomer deletes the SQLite file and seeds again: var/snapshots still holds the old snapshot 1.
    (settings.SNAPSHOT_DIR / "demo-marker" / "000001").mkdir(parents=True)
    (settings.SNAPSHOT_DIR / "demo-marker" / "000001" / "manifest.json").write_text("{}")
    run = seed_training_demo(UserFactory(username="demo-admin"), items=8)
    assert run.snapshot.status == Snapshot.Status.READY
