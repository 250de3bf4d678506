"""The demo's training side: a small project of the marker task, judged through the queue by a
simulated annotator, a snapshot of it, and a tiny reward-model run on that snapshot.

The marker task is learnable by the tiny model: each item has two equally long responses and the
one containing MARKER is preferred. The run is queued; the demo's worker trains it in seconds,
so the run page shows its curves filling in.
"""
import json
import random
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model

from annotate import queue
from annotate.export import create_snapshot
from annotate.importing import import_items
from annotate.models import Membership, Project, TaskMode
from training.engine.tiny import MARKER, marker_pairs

from . import runs
from .models import Run

PROJECT_SLUG = "demo-marker"
RUN_NAME = "Demo: reward model on the marker task"
SIMULATED_ANNOTATOR = "simulated-annotator"


def import_marker_items(project: Project, count: int, *, seed: int = 0) -> None:
    """`count` marker items, the preferred response in a random position."""
    rng = random.Random(seed)
    lines = []
    for number, pair in enumerate(marker_pairs(count, seed=seed)):
        responses = [pair["chosen"].strip(), pair["rejected"].strip()]
        rng.shuffle(responses)
        lines.append(json.dumps({"id": f"marker-{number}", "prompt": pair["prompt"], "responses": responses}))
    with tempfile.TemporaryDirectory() as folder:
        items_file = Path(folder) / "marker-items.jsonl"
        items_file.write_text("\n".join(lines) + "\n")
        report = import_items(project, items_file, on_duplicate="skip")
    if not report.ok:
        raise ValueError("the marker items do not import: " + "; ".join(map(str, report.errors[:5])))


def judge_by_marker(project: Project, annotators, *, seed: int = 0) -> None:
    """Each annotator takes items from the queue until none is left, preferring the marker response."""
    rng = random.Random(seed)
    for annotator in annotators:
        while (assignment := queue.next_assignment(project, annotator)) is not None:
            texts = [response.text for response in assignment.item.responses.order_by("position")]
            ranks = [1, 2] if MARKER in texts[0].split() else [2, 1]
            queue.submit(assignment.pk, annotator, ranks=ranks, seconds_spent=rng.uniform(5, 20))


def seed_training_demo(admin, *, items: int = 48) -> Run:
    """The demo run (created once; seeding again returns the existing one)."""
    existing = Run.objects.filter(name=RUN_NAME).first()
    if existing is not None:
        return existing
    project, _ = Project.objects.get_or_create(
        slug=PROJECT_SLUG,
        defaults={"name": "Demo: the marker task (training data)", "task_mode": TaskMode.PAIRWISE, "allow_ties": False,
                  "overlap": 1, "gold_rate": 0.0,
                  "guidelines": f"Prefer the response that contains the word **{MARKER}**."},
    )
    annotator, created = get_user_model().objects.get_or_create(username=SIMULATED_ANNOTATOR)
    if created:
        annotator.set_unusable_password()  # nobody logs in as the simulation
        annotator.save(update_fields=["password"])
    Membership.objects.get_or_create(project=project, user=annotator)
    Membership.objects.update_or_create(project=project, user=admin, defaults={"role": Membership.Role.ADMIN})
    import_marker_items(project, items)
    judge_by_marker(project, [annotator])
    snapshot = create_snapshot(project, kind="pairs", options={"test_fraction": 0.2, "file_formats": ["jsonl"]},
                               created_by=admin)
    request = runs.LaunchRequest(kind=Run.Kind.REWARD, preset="cpu-smoke", snapshot=snapshot, name=RUN_NAME,
                                 config_overrides={"logging_steps": 2})
    return runs.launch(request, created_by=admin)
