import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from annotate import queue
from annotate.models import Assignment, Item, Judgement, TaskMode
from annotate.queue import (
    AnnotatorSuspended,
    InvalidJudgement,
    LeaseExpired,
    NotAMember,
    NotYourLease,
    ProjectClosed,
    UndoUnavailable,
    expire_leases,
    next_assignment,
    progress,
    skip,
    submit,
    undo_last,
)
from tests.factories import ItemFactory, ProjectFactory, UserFactory, annotators_of

pytestmark = pytest.mark.django_db


def project_with_items(count: int, **project_fields):
    project = ProjectFactory(**{"gold_rate": 0.0, **project_fields})
    items = [ItemFactory(project=project) for _ in range(count)]
    return project, items


def judge(project, annotator, **answer) -> Judgement:
    """Take the next item and submit an answer for it (the first response wins by default)."""
    assignment = next_assignment(project, annotator)
    assert assignment is not None, f"{annotator} got no item"
    answer.setdefault("ratings" if project.task_mode == TaskMode.RATING else "ranks",
                      list(range(1, len(assignment.shown_order) + 1)))
    return submit(assignment.pk, annotator, seconds_spent=4.0, **answer)


def judge_all(project, annotator) -> list[int]:
    judged = []
    while (assignment := next_assignment(project, annotator)) is not None:
        submit(assignment.pk, annotator, ranks=[1, 2], seconds_spent=1.0)
        judged.append(assignment.item_id)
    return judged


# Leasing


def test_a_lease_covers_every_response_in_a_stored_order_and_expires_after_the_project_lease_time():
    project, (item,) = project_with_items(1, lease_seconds=600, task_mode=TaskMode.RANKING)
    (alice,) = annotators_of(project, 1)
    now = timezone.now()
    assignment = next_assignment(project, alice, now=now)
    assert assignment.item == item and assignment.state == Assignment.State.LEASED
    assert sorted(assignment.shown_order) == [0, 1, 2, 3]
    assert assignment.expires_at == now + timedelta(seconds=600)
    assert Assignment.objects.get(pk=assignment.pk).shown_order == assignment.shown_order


def test_a_reload_returns_the_live_lease_instead_of_burning_an_item():
    project, _ = project_with_items(3)
    (alice,) = annotators_of(project, 1)
    first = next_assignment(project, alice)
    assert next_assignment(project, alice) == first
    assert Assignment.objects.filter(annotator=alice).count() == 1


def test_nothing_to_do_returns_none():
    project, _ = project_with_items(0)
    (alice,) = annotators_of(project, 1)
    assert next_assignment(project, alice) is None


def test_an_annotator_never_gets_the_same_item_twice_and_runs_out():
    project, items = project_with_items(5)
    (alice,) = annotators_of(project, 1)
    judged = judge_all(project, alice)
    assert sorted(judged) == sorted(item.pk for item in items)


def test_an_item_gets_at_most_overlap_judgements():
    project, (item,) = project_with_items(1, overlap=2)
    alice, bob, carol = annotators_of(project, 3)
    judge(project, alice)
    judge(project, bob)
    assert next_assignment(project, carol) is None
    item.refresh_from_db()
    assert item.judgement_count == 2 == Judgement.objects.filter(item=item).count()


def test_live_leases_hold_their_slot_and_an_expired_lease_frees_it():
    project, (item,) = project_with_items(1, overlap=1, lease_seconds=60)
    alice, bob = annotators_of(project, 2)
    now = timezone.now()
    held = next_assignment(project, alice, now=now)
    assert next_assignment(project, bob, now=now + timedelta(seconds=59)) is None
    later = now + timedelta(seconds=61)
    taken = next_assignment(project, bob, now=later)
    assert taken.item == item
    # The lapsed annotator cannot record an answer any more, nor get the item back.
    with pytest.raises(LeaseExpired):
        submit(held.pk, alice, ranks=[1, 2], seconds_spent=70, now=later)
    assert next_assignment(project, alice, now=later) is None


def test_a_submission_that_arrives_after_its_room_went_to_someone_else_is_refused():
    project, (item,) = project_with_items(1, overlap=1, lease_seconds=60)
    alice, bob = annotators_of(project, 2)
    start = timezone.now()
    lapsing = next_assignment(project, alice, now=start)
    taken = next_assignment(project, bob, now=start + timedelta(seconds=61))
    # Alice's request set off just before her lease ran out, and lands after Bob got the item.
    with pytest.raises(LeaseExpired):
        submit(lapsing.pk, alice, ranks=[1, 2], seconds_spent=59, now=start + timedelta(seconds=59))
    submit(taken.pk, bob, ranks=[2, 1], seconds_spent=5, now=start + timedelta(seconds=70))
    item.refresh_from_db()
    assert item.judgement_count == 1 == Judgement.objects.filter(item=item).count()


def test_fullest_items_come_first():
    project, (empty, one, two) = project_with_items(3, overlap=3)
    alice, bob, carol, dave = annotators_of(project, 4)
    for annotator, item in [(alice, one), (alice, two), (bob, two)]:
        assignment = Assignment.objects.create(project=project, item=item, annotator=annotator, shown_order=[0, 1],
                                               leased_at=timezone.now(), expires_at=timezone.now() + timedelta(minutes=5))
        submit(assignment.pk, annotator, ranks=[1, 2], seconds_spent=3)
    assert [judge(project, carol).item for _ in range(3)] == [two, one, empty]
    assert next_assignment(project, dave).item == one  # two is full now


def test_every_item_is_found_when_an_annotator_has_filled_the_walk_window(monkeypatch):
    # With overlap 3 and one annotator every item stays open, so the items this annotator had
    # pile up at the front of level 1; a window of 2 must still find everything.
    monkeypatch.setattr(queue, "WALK_WINDOW", 2)
    project, items = project_with_items(7, overlap=3)
    alice, bob = annotators_of(project, 2)
    assert len(judge_all(project, alice)) == 7
    assert sorted(judge_all(project, bob)) == sorted(item.pk for item in items)


def test_an_item_beyond_the_walk_window_is_still_found(monkeypatch):
    monkeypatch.setattr(queue, "WALK_WINDOW", 2)
    project, (first, second, third) = project_with_items(3)
    (alice,) = annotators_of(project, 1)
    for _ in range(2):
        skip(next_assignment(project, alice).pk, alice, reason="not my language")
    assert next_assignment(project, alice).item == third


def test_expire_leases_marks_only_overdue_leases():
    project, _ = project_with_items(2, lease_seconds=60)
    alice, bob = annotators_of(project, 2)
    now = timezone.now()
    overdue = next_assignment(project, alice, now=now - timedelta(seconds=120))
    live = next_assignment(project, bob, now=now)
    assert expire_leases(now=now) == 1
    overdue.refresh_from_db()
    live.refresh_from_db()
    assert (overdue.state, live.state) == (Assignment.State.EXPIRED, Assignment.State.LEASED)


def test_response_order_is_shuffled_per_assignment_and_stored_with_the_judgement():
    project, _ = project_with_items(20, overlap=1)
    (alice,) = annotators_of(project, 1)
    orders = set()
    for _ in range(20):
        judgement = judge(project, alice)
        assert judgement.shown_order == judgement.assignment.shown_order
        orders.add(tuple(judgement.shown_order))
    assert orders == {(0, 1), (1, 0)}


# Gold items


def gold_item(project):
    return ItemFactory(project=project, is_gold=True, gold_answer=[1, 2])


def test_gold_items_come_first_at_gold_rate_one_and_never_at_zero():
    project, (regular,) = project_with_items(1, gold_rate=1.0)
    gold = gold_item(project)
    (alice,) = annotators_of(project, 1)
    assert [judge(project, alice).item for _ in range(2)] == [gold, regular]

    never, _ = project_with_items(2, gold_rate=0.0)
    gold_item(never)
    (bob,) = annotators_of(never, 1)
    assert not any(item.is_gold for item in Item.objects.filter(pk__in=judge_all(never, bob)))


def test_gold_is_mixed_in_at_about_the_gold_rate():
    project, _ = project_with_items(40, gold_rate=0.25, overlap=1)
    for _ in range(40):
        gold_item(project)
    (alice,) = annotators_of(project, 1)
    served = [judge(project, alice).item.is_gold for _ in range(40)]
    # 40 draws at 0.25: 10 expected; this band fails with probability below 2e-4.
    assert 2 <= sum(served) <= 20


def test_every_annotator_is_tested_on_a_gold_item_whatever_the_overlap():
    project, _ = project_with_items(0, gold_rate=1.0, overlap=1)
    gold = gold_item(project)
    annotators = annotators_of(project, 3)
    assert all(judge(project, annotator).item == gold for annotator in annotators)


# Submitting


def test_the_same_submission_twice_records_one_judgement():
    project, (item,) = project_with_items(1)
    (alice,) = annotators_of(project, 1)
    assignment = next_assignment(project, alice)
    first = submit(assignment.pk, alice, ranks=[2, 1], strength=2, rationale="B is right", seconds_spent=9)
    again = submit(assignment.pk, alice, ranks=[2, 1], strength=2, rationale="B is right", seconds_spent=11)
    assert again.pk == first.pk
    assert Judgement.objects.count() == 1
    item.refresh_from_db()
    assert item.judgement_count == 1
    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.SUBMITTED
    assert (first.ranks, first.strength, first.annotator, first.project, first.item) == ([2, 1], 2, alice, project, item)


def test_a_different_second_submission_edits_within_the_undo_window_and_is_refused_after():
    project, (item,) = project_with_items(1, undo_seconds=60)
    (alice,) = annotators_of(project, 1)
    assignment = next_assignment(project, alice)
    first = submit(assignment.pk, alice, ranks=[1, 2], seconds_spent=5)
    edited = submit(assignment.pk, alice, ranks=[2, 1], strength=1, seconds_spent=8)
    assert edited.pk == first.pk and Judgement.objects.get().ranks == [2, 1]
    with pytest.raises(UndoUnavailable, match="time to change it has passed"):
        submit(assignment.pk, alice, ranks=[1, 1], seconds_spent=8, now=timezone.now() + timedelta(seconds=61))
    assert Judgement.objects.get().ranks == [2, 1]
    item.refresh_from_db()
    assert item.judgement_count == 1


def test_a_submission_on_someone_elses_lease_is_refused():
    project, _ = project_with_items(1)
    alice, mallory = annotators_of(project, 2)
    assignment = next_assignment(project, alice)
    with pytest.raises(NotYourLease) as refused:
        submit(assignment.pk, mallory, ranks=[1, 2], seconds_spent=1)
    assert refused.value.code == "not_your_lease" and refused.value.message
    with pytest.raises(NotYourLease):
        submit(assignment.pk + 1000, alice, ranks=[1, 2], seconds_spent=1)
    assert not Judgement.objects.exists()


def test_an_invalid_judgement_is_refused_with_every_reason_and_the_lease_stays():
    project, _ = project_with_items(1, allow_ties=False)
    (alice,) = annotators_of(project, 1)
    assignment = next_assignment(project, alice)
    with pytest.raises(InvalidJudgement) as refused:
        submit(assignment.pk, alice, ranks=[1, 1], strength=2, seconds_spent=-3)
    assert refused.value.code == "invalid"
    assert len(refused.value.errors) == 3, refused.value.errors
    assert not Judgement.objects.exists()
    assert next_assignment(project, alice) == assignment
    assert submit(assignment.pk, alice, ranks=[1, 2], seconds_spent=3).ranks == [1, 2]


@pytest.mark.parametrize("task_mode, answer", [
    (TaskMode.RANKING, {"ranks": [4, 2, 1, 3]}),
    (TaskMode.RATING, {"ratings": [5, 1]}),
])
def test_rankings_and_ratings_are_recorded_by_canonical_position(task_mode, answer):
    project, (item,) = project_with_items(1, task_mode=task_mode)
    (alice,) = annotators_of(project, 1)
    judgement = judge(project, alice, **answer)
    assert (judgement.ranks, judgement.ratings) == (answer.get("ranks"), answer.get("ratings"))


def test_a_submission_counts_towards_fresh_flags(settings, django_capture_on_commit_callbacks):
    settings.FLAG_REFRESH_EVERY_SUBMITS = 1  # every judgement asks, once its transaction commits
    project, _ = project_with_items(2)
    (alice,) = annotators_of(project, 1)
    with django_capture_on_commit_callbacks() as after_commit:
        judge(project, alice)
    assert len(after_commit) == 1


# Skipping


def test_a_skipped_item_needs_a_reason_never_comes_back_and_frees_its_slot():
    project, (item,) = project_with_items(1, overlap=1)
    alice, bob = annotators_of(project, 2)
    assignment = next_assignment(project, alice)
    with pytest.raises(InvalidJudgement, match="Say why"):
        skip(assignment.pk, alice, reason="   ")
    skipped = skip(assignment.pk, alice, reason="I cannot read Finnish")
    assert (skipped.state, skipped.skip_reason) == (Assignment.State.SKIPPED, "I cannot read Finnish")
    assert skip(assignment.pk, alice, reason="again").skip_reason == "I cannot read Finnish"
    assert next_assignment(project, alice) is None
    assert next_assignment(project, bob).item == item
    with pytest.raises(NotYourLease, match="skipped"):
        submit(assignment.pk, alice, ranks=[1, 2], seconds_spent=1)


def test_an_expired_or_submitted_lease_cannot_be_skipped():
    project, _ = project_with_items(2, lease_seconds=60)
    (alice,) = annotators_of(project, 1)
    submitted = judge(project, alice).assignment
    with pytest.raises(NotYourLease, match="already submitted"):
        skip(submitted.pk, alice, reason="changed my mind")
    lapsed = next_assignment(project, alice)
    with pytest.raises(LeaseExpired):
        skip(lapsed.pk, alice, reason="too late", now=timezone.now() + timedelta(seconds=61))


# Undo


def test_undo_takes_back_the_last_judgement_and_leases_its_item_again_for_editing():
    project, items = project_with_items(3, undo_seconds=60)
    (alice,) = annotators_of(project, 1)
    judge(project, alice)
    last = judge(project, alice, ranks=[2, 1], strength=3, rationale="second is safer")
    moved_on_to = next_assignment(project, alice)

    reopened = undo_last(project, alice)
    assert reopened.pk == last.assignment_id and reopened.state == Assignment.State.LEASED
    assert reopened.edit_of == {"ranks": [2, 1], "ratings": None, "strength": 3, "rationale": "second is safer"}
    assert not Judgement.objects.filter(pk=last.pk).exists()
    assert Item.objects.get(pk=reopened.item_id).judgement_count == 0
    assert next_assignment(project, alice) == reopened

    edited = submit(reopened.pk, alice, ranks=[1, 2], seconds_spent=2)
    assert edited.ranks == [1, 2] and Item.objects.get(pk=reopened.item_id).judgement_count == 1
    assert next_assignment(project, alice) == moved_on_to


def test_undo_is_refused_after_the_window_or_with_nothing_to_undo():
    project, _ = project_with_items(2, undo_seconds=30)
    alice, bob = annotators_of(project, 2)
    with pytest.raises(UndoUnavailable):
        undo_last(project, alice)
    judge(project, alice)
    with pytest.raises(UndoUnavailable) as refused:
        undo_last(project, alice, now=timezone.now() + timedelta(seconds=31))
    assert refused.value.code == "undo_unavailable"
    with pytest.raises(UndoUnavailable):
        undo_last(project, bob)
    assert Judgement.objects.count() == 1


# Who may annotate


def test_non_members_suspended_annotators_and_closed_projects_get_clear_errors():
    project, _ = project_with_items(2)
    (alice,) = annotators_of(project, 1)
    assignment = next_assignment(project, alice)
    with pytest.raises(NotAMember) as refused:
        next_assignment(project, UserFactory())
    assert refused.value.code == "not_member"

    alice.memberships.update(is_suspended=True)
    for attempt in (lambda: next_assignment(project, alice),
                    lambda: submit(assignment.pk, alice, ranks=[1, 2], seconds_spent=1),
                    lambda: undo_last(project, alice)):
        with pytest.raises(AnnotatorSuspended):
            attempt()

    alice.memberships.update(is_suspended=False)
    project.is_active = False
    project.save()
    with pytest.raises(ProjectClosed) as refused:
        next_assignment(project, alice)
    assert refused.value.code == "project_closed" and "closed" in refused.value.message
    with pytest.raises(ProjectClosed):
        submit(assignment.pk, alice, ranks=[1, 2], seconds_spent=1)
    assert not Judgement.objects.exists()


# Progress


def test_progress_counts_mine_done_and_wanted():
    project, _ = project_with_items(3, overlap=2)
    alice, bob = annotators_of(project, 2)
    judge(project, alice)
    judge(project, alice)
    judge(project, bob)
    assert progress(project, alice) == {"mine": 2, "done": 1, "total": 3, "judgements": 3, "wanted": 6, "share": 0.5}
    assert progress(project, bob)["mine"] == 1


# Concurrency


def race(project, annotators, *, retries: int = 2) -> tuple[dict, list]:
    """Each annotator in its own thread and database connection, taking and submitting items until none is left.

    Every submission is sent `retries` times, as a double click or a retried request would.
    Returns the item ids each annotator judged and the exceptions raised.
    """
    barrier = threading.Barrier(len(annotators))
    judged, failures = {}, []

    def work(annotator):
        try:
            barrier.wait()
            mine = judged.setdefault(annotator.pk, [])
            while (assignment := next_assignment(project, annotator)) is not None:
                for _ in range(retries):
                    submit(assignment.pk, annotator, ranks=[1, 2], seconds_spent=1.0)
                mine.append(assignment.item_id)
        except Exception as error:  # reported by the test, with the thread's own traceback
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(annotator,)) for annotator in annotators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return judged, failures


def assert_no_duplicate_no_overflow_no_loss(project, items, judged):
    overlap = project.overlap
    for item_ids in judged.values():
        assert len(item_ids) == len(set(item_ids)), "an annotator got the same item twice"
    assert sum(len(item_ids) for item_ids in judged.values()) == len(items) * overlap
    per_item = Item.objects.filter(project=project).annotate(n=Count("judgements")).values_list("judgement_count", "n")
    assert all(count == n == overlap for count, n in per_item), list(per_item)
    assert not Assignment.objects.filter(project=project, state=Assignment.State.SUBMITTED, judgement__isnull=True).exists()
    assert Judgement.objects.filter(project=project).count() == len(items) * overlap
    assert not (
        Assignment.objects.values("item", "annotator").annotate(n=Count("pk")).filter(n__gt=1).exists()
    ), "an (item, annotator) pair was assigned twice"


@pytest.mark.django_db(transaction=True)
def test_32_concurrent_annotators_never_duplicate_overfill_or_lose_a_judgement(postgres_only):
    project, items = project_with_items(45, overlap=3)
    annotators = annotators_of(project, 32)
    judged, failures = race(project, annotators)
    assert not failures, failures
    assert_no_duplicate_no_overflow_no_loss(project, items, judged)


@pytest.mark.django_db(transaction=True)
def test_one_annotator_asking_from_many_tabs_at_once_gets_one_lease(postgres_only):
    # The requests that wait for the first one's membership lock read the live lease before the
    # wait; the lease's own recheck must notice the one taken meanwhile and hand that out instead.
    project, _ = project_with_items(10)
    (alice,) = annotators_of(project, 1)
    barrier = threading.Barrier(8)
    leased, failures = [], []

    def ask():
        try:
            barrier.wait()
            leased.append(next_assignment(project, alice).pk)
        except Exception as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert len(leased) == 8 and len(set(leased)) == 1
    assert Assignment.objects.filter(annotator=alice).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_annotators_on_sqlite_take_turns_correctly():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path; the PostgreSQL path has its own 32-worker test")
    project, items = project_with_items(15, overlap=3)
    annotators = annotators_of(project, 6)
    judged, failures = race(project, annotators)
    assert not failures, failures
    assert_no_duplicate_no_overflow_no_loss(project, items, judged)
