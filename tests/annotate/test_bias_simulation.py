"""The flags against a planted truth: honest annotators (noisy copies of a hidden truth) and
planted position-biased, length-biased, random and too-fast annotators judge a project through
the real queue; the stored flags must catch every planted kind and spare the honest.

The project ranks 4 responses: a random top pick then agrees with the others a quarter of the
time against an honest annotator's ~80%, which 25 judgements each tell apart. (Pairs need about
four times as many judgements for the same certainty: agreement by chance is a half.)"""
import random
from collections import defaultdict

import numpy as np
import pytest
from django.contrib.auth import get_user_model

from annotate.bias import refresh_flags
from annotate.models import AnnotatorFlag, Item, Membership, Response, TaskMode
from annotate.queue import next_assignment, submit
from tests.annotate.simulated_annotators import FAST, HONEST, LENGTH, POSITION, RANDOM, pool, ranks_for
from tests.factories import ProjectFactory

HONEST_ANNOTATORS, PLANTED_EACH, JUDGEMENTS_EACH, OVERLAP, RESPONSES = 12, 2, 25, 5, 4
FILLER = "The quick brown fox jumps over the lazy dog while the answer explains itself. " * 25


def build_project(rng: np.random.Generator, n_annotators: int):
    """A ranking project with just enough items for every annotator, its members, and the hidden truth."""
    project = ProjectFactory(task_mode=TaskMode.RANKING, allow_ties=False, overlap=OVERLAP, gold_rate=0)
    n_items = n_annotators * JUDGEMENTS_EACH // OVERLAP
    items = Item.objects.bulk_create(
        Item(project=project, external_id=f"sim-{i}", prompt=f"Question {i}?") for i in range(n_items)
    )
    truth = rng.integers(RESPONSES, size=n_items)
    lengths = rng.integers(100, 1500, size=(n_items, RESPONSES))
    Response.objects.bulk_create(
        Response(item=item, position=p, text=FILLER[: lengths[i, p]])
        for i, item in enumerate(items)
        for p in range(RESPONSES)
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"sim-{project.pk}-{i}", password="!") for i in range(n_annotators)
    )
    Membership.objects.bulk_create(Membership(project=project, user=user) for user in users)
    hidden = {item.pk: (int(truth[i]), [int(v) for v in lengths[i]]) for i, item in enumerate(items)}
    return project, users, hidden


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_flags_catch_planted_annotators_judging_through_the_queue(seed):
    rng = np.random.default_rng(seed)
    random.seed(seed)  # the queue shuffles response order with the random module
    annotators = pool(rng, honest=HONEST_ANNOTATORS, planted_each=PLANTED_EACH)
    project, users, hidden = build_project(rng, len(annotators))

    for _ in range(JUDGEMENTS_EACH):
        for index in rng.permutation(len(users)):
            assignment = next_assignment(project, users[index])
            truth, lengths = hidden[assignment.item_id]
            behaviour = annotators[index]
            pick = behaviour.pick(rng, truth, assignment.shown_order, lengths)
            submit(assignment.pk, users[index], ranks=ranks_for(pick, RESPONSES), seconds_spent=behaviour.seconds(rng, lengths))

    refresh_flags(project)

    kinds_by_user = defaultdict(set)
    for user_id, kind in AnnotatorFlag.objects.filter(project=project, is_active=True).values_list("annotator_id", "kind"):
        kinds_by_user[user_id].add(kind)
    for planted in (POSITION, LENGTH, RANDOM, FAST):
        of_kind = [user for user, a in zip(users, annotators) if a.kind == planted]
        caught = [user for user in of_kind if planted in kinds_by_user[user.pk]]
        assert len(caught) / len(of_kind) >= 0.95, f"{planted}: caught {len(caught)} of {len(of_kind)}"
    honest = [user for user, a in zip(users, annotators) if a.kind == HONEST]
    wrongly = {user.username: sorted(kinds_by_user[user.pk]) for user in honest if kinds_by_user[user.pk]}
    assert len(wrongly) <= 0.05 * len(honest), f"honest annotators flagged: {wrongly}"
