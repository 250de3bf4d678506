"""The annotation queue: which item an annotator judges next, and recording what they decided.

Rules (issue 3 and the design's queue semantics):
- An annotator holds at most one live lease per project and gets it back on every request,
  so a reload never burns an item. A lease is live while `expires_at` is in the future:
  expiry is read lazily by every query, `expire_leases` only tidies the state column.
- A new lease goes to an item this annotator has never been assigned (judged, skipped or let
  expire) that still has room: judgements + live leases < overlap. The fullest items come
  first, so that complete, exportable items accumulate. Gold items are mixed in at the
  project's gold rate and are not capped by overlap: every annotator may be tested on each.
- Concurrency: a lease locks its item row (`FOR NO KEY UPDATE SKIP LOCKED` on PostgreSQL,
  so that annotators asking at the same instant walk past each other's items) and checks
  its room again after the lock by a fresh statement, which sees leases committed meanwhile.
  Submit and undo move one unit between an item's judgements and its live leases with an
  UPDATE of the item row (the same lock); skips and expiry only free room. A submission whose
  lease ran out on the way is refused if its room went to someone else (`_count_judgement`).
  On SQLite, transactions are IMMEDIATE (see settings): one writer at a time, so the same
  code is correct there too.
- A request never scans the project: it reads a bounded window of each fullness level
  through the item_queue_walk index (see WALK_WINDOW).
"""
import functools
import random
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from annotate.judging import Verdict, judgement_errors
from annotate.models import Assignment, Item, Judgement, Membership, Project, Response

LEASED, SUBMITTED, SKIPPED = Assignment.State.LEASED, Assignment.State.SUBMITTED, Assignment.State.SKIPPED

# How many items of one fullness level a request reads before it tries the next, less full
# level. Items this annotator already had pile up at the front of a level (several annotators
# fill an item in turn); the window keeps the read bounded however large the project grows.
# Only when every window is used up does a request walk on, through items this annotator had.
WALK_WINDOW = 200


class QueueError(Exception):
    code = "queue_error"
    default_message = "The queue could not do that."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class NotAMember(QueueError):
    code = "not_member"
    default_message = "You are not a member of this project. Ask its admin to add you."


class AnnotatorSuspended(QueueError):
    code = "suspended"
    default_message = "Your work on this project is paused by its admin. Ask them what to change."


class ProjectClosed(QueueError):
    code = "project_closed"
    default_message = "This project is closed: it hands out no more items and takes no more answers."


class LeaseExpired(QueueError):
    code = "lease_expired"
    default_message = (
        "Your time on this item ran out before you submitted, so it went back to the queue "
        "and your answer was not recorded. Take the next item."
    )


class NotYourLease(QueueError):
    code = "not_your_lease"
    default_message = "This item is not reserved for you."


class InvalidJudgement(QueueError):
    code = "invalid"

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("Your answer was not recorded: " + " ".join(errors))


class UndoUnavailable(QueueError):
    code = "undo_unavailable"
    default_message = "There is nothing to undo: you have no judgement in this project recent enough to change."


def next_assignment(project: Project, annotator, *, now: datetime | None = None) -> Assignment | None:
    """The annotator's live lease, else a new lease on the best item for them; None when none is left."""
    now = now or timezone.now()
    with transaction.atomic():
        # Locking the membership makes one annotator's requests take turns, so two tabs
        # asking at once end up with one lease, not two.
        _check_member(project, annotator, lock=True)
        lease = _live_lease(project, annotator, now)
        if lease is not None:
            return lease
        item_id = _claim_item(project, annotator, now)
        if item_id is None:
            return None
        return _lease(project, item_id, annotator, now)


def submit(assignment_id: int, annotator, *, ranks=None, ratings=None, strength=None, rationale: str = "",
           seconds_spent: float, now: datetime | None = None) -> Judgement:
    """Record the judgement for a leased assignment; the same submission again returns the same Judgement."""
    now = now or timezone.now()
    verdict = Verdict(ranks=ranks, ratings=ratings, strength=strength)
    with transaction.atomic():
        assignment = _locked_assignment(assignment_id, annotator)
        if assignment.state == SUBMITTED:
            return _resubmit(assignment, annotator, verdict, rationale, seconds_spent, now)
        _check_member(assignment.project, annotator, lock=False)
        _check_live(assignment, now)
        _validate(assignment, verdict, seconds_spent)
        _count_judgement(assignment, now)
        judgement = Judgement.objects.create(
            assignment=assignment,
            project_id=assignment.project_id,
            item_id=assignment.item_id,
            annotator=annotator,
            ranks=verdict.ranks,
            ratings=verdict.ratings,
            strength=verdict.strength,
            shown_order=assignment.shown_order,
            rationale=rationale,
            seconds_spent=seconds_spent,
        )
        assignment.state, assignment.edit_of = SUBMITTED, None
        assignment.save(update_fields=["state", "edit_of", "updated_at"])
    return judgement


def skip(assignment_id: int, annotator, *, reason: str, now: datetime | None = None) -> Assignment:
    """Give a leased item back with a reason; it never comes back to this annotator."""
    now = now or timezone.now()
    reason = reason.strip()
    with transaction.atomic():
        assignment = _locked_assignment(assignment_id, annotator)
        if assignment.state == SKIPPED:
            return assignment
        _check_member(assignment.project, annotator, lock=False)
        _check_live(assignment, now)
        if not reason:
            raise InvalidJudgement(["Say why you skip this item."])
        assignment.state, assignment.skip_reason = SKIPPED, reason
        assignment.save(update_fields=["state", "skip_reason", "updated_at"])
    return assignment


def undo_last(project: Project, annotator, *, now: datetime | None = None) -> Assignment:
    """Take back the annotator's last judgement (within project.undo_seconds) and lease its item again.

    The returned assignment is live again with the same shown order, so next_assignment
    hands it out next; `edit_of` keeps what was submitted, to prefill the page.
    """
    now = now or timezone.now()
    with transaction.atomic():
        _check_member(project, annotator, lock=True)
        last = Judgement.objects.filter(project=project, annotator=annotator).order_by("-created_at", "-pk").first()
        if last is None or last.created_at + timedelta(seconds=project.undo_seconds) < now:
            raise UndoUnavailable()
        assignment = Assignment.objects.select_for_update().get(pk=last.assignment_id)
        assignment.edit_of = {"ranks": last.ranks, "ratings": last.ratings, "strength": last.strength,
                              "rationale": last.rationale}
        last.delete()
        Item.objects.filter(pk=assignment.item_id).update(judgement_count=F("judgement_count") - 1)
        assignment.state, assignment.leased_at = LEASED, now
        assignment.expires_at = now + timedelta(seconds=project.lease_seconds)
        assignment.save(update_fields=["state", "leased_at", "expires_at", "edit_of", "updated_at"])
    return assignment


def expire_leases(*, now: datetime | None = None) -> int:
    """Mark overdue leases expired; returns how many. Queries already treat them as expired."""
    now = now or timezone.now()
    return Assignment.objects.filter(state=LEASED, expires_at__lte=now).update(state=Assignment.State.EXPIRED)


def progress(project: Project, annotator) -> dict:
    """Counts for progress bars: this annotator's judgements, and the project's items and judgements."""
    items = Item.objects.filter(project=project)
    total = items.count()
    return {
        "mine": Judgement.objects.filter(project=project, annotator=annotator).count(),
        "done": items.filter(judgement_count__gte=project.overlap).count(),
        "total": total,
        "judgements": Judgement.objects.filter(project=project).count(),
        "wanted": total * project.overlap,
    }


def _check_member(project: Project, annotator, *, lock: bool) -> None:
    memberships = Membership.objects.filter(project=project, user=annotator)
    if lock:
        memberships = memberships.select_for_update()
    membership = memberships.only("is_suspended").first()
    if membership is None:
        raise NotAMember()
    if membership.is_suspended:
        raise AnnotatorSuspended()
    if not project.is_active:
        raise ProjectClosed()


def _live_lease(project: Project, annotator, now: datetime) -> Assignment | None:
    # Newest first: after an undo, the item being edited comes before the one the annotator had moved on to.
    leases = Assignment.objects.filter(project=project, annotator=annotator, state=LEASED, expires_at__gt=now)
    return leases.order_by("-leased_at", "-pk").first()


def _claim_item(project: Project, annotator, now: datetime) -> int | None:
    claims = [_claim_open_item]
    if project.gold_rate > 0:
        gold_turn = random.random() < project.gold_rate
        claims.insert(0 if gold_turn else 1, _claim_gold_item)
    for claim in claims:
        item_id = claim(project, annotator, now)
        if item_id is not None:
            return item_id
    return None


def _claim_gold_item(project: Project, annotator, now: datetime) -> int | None:
    """The least-judged gold item this annotator has not had (gold is not capped by overlap)."""
    # `is_gold = %s`, not the ORM's bare `is_gold`, which SQLite cannot match to item_queue_walk.
    item, assignment = Item._meta.db_table, Assignment._meta.db_table
    row = _fetch_one(
        f"SELECT i.id FROM {item} i WHERE i.project_id = %s AND i.is_gold = %s AND NOT EXISTS (SELECT 1"
        f" FROM {assignment} mine WHERE mine.item_id = i.id AND mine.annotator_id = %s)"
        f" ORDER BY i.judgement_count, i.id LIMIT 1",
        [project.pk, True, annotator.pk],
    )
    return row[0] if row else None


def _claim_open_item(project: Project, annotator, now: datetime) -> int | None:
    """Lock the fullest item with room for this annotator, walking one fullness level at a time."""
    for windowed in (True, False):
        for level in range(project.overlap - 1, -1, -1):
            item_id = _lock_first_open(project, annotator, now, level, windowed)
            if item_id is not None:
                return item_id
    return None


def _lock_first_open(project: Project, annotator, now: datetime, level: int, windowed: bool) -> int | None:
    """The first item of `level` with room for this annotator, locked; None when there is none."""
    walk_sql, room_sql = _walk_statements(connection.vendor, windowed)
    params = {
        "project": project.pk, "regular": False, "level": level, "window": WALK_WINDOW, "annotator": annotator.pk,
        "leased": LEASED, "now": connection.ops.adapt_datetimefield_value(now), "overlap": project.overlap,
        "after": 0, "beyond": 2**62,
    }
    while (row := _fetch_one(walk_sql, params)) is not None:
        # The walk read a snapshot from before the lock; this fresh statement sees any
        # lease committed since by a request that held the lock before us.
        if _fetch_one(room_sql, {**params, "item": row[0]}) is not None:
            return row[0]
        params["after"] = row[0]
    return None


@functools.cache
def _walk_statements(vendor: str, windowed: bool) -> tuple[str, str]:
    """SQL for the queue's hot path, kept plain so that each plan is easy to EXPLAIN.

    The walk reads one fullness level of the project in id order through the item_queue_walk
    index and locks the first item with room for the annotator: never assigned to them, and
    judgements + live leases < overlap. Windowed, it stops before the level's (WALK_WINDOW+1)th
    item. PostgreSQL skips items that other requests hold; NO KEY UPDATE lets judgements
    (which key-share the item) be inserted meanwhile.
    """
    item, assignment = Item._meta.db_table, Assignment._meta.db_table
    if vendor == "postgresql":
        # Bounds and order on the whole index key: with equalities on its leading columns and
        # ORDER BY id, PostgreSQL may walk the primary key instead, through every earlier
        # project's items (measured: 20k rows read to lease an item of the second project).
        key = "i.project_id, i.is_gold, i.judgement_count, i.id"

        def in_level(after: str, before: str) -> str:
            level = "%(project)s, %(regular)s, %(level)s"
            return f"({key}) > ({level}, {after}) AND ({key}) < ({level}, {before})"
    else:
        key = "i.id"  # SQLite matches these equalities and the id range to the index itself

        def in_level(after: str, before: str) -> str:
            return (f"i.project_id = %(project)s AND i.is_gold = %(regular)s AND i.judgement_count = %(level)s"
                    f" AND i.id > {after} AND i.id < {before}")

    room = (
        f"NOT EXISTS (SELECT 1 FROM {assignment} mine WHERE mine.item_id = i.id AND mine.annotator_id = %(annotator)s)"
        f" AND i.judgement_count + (SELECT COUNT(*) FROM {assignment} live WHERE live.item_id = i.id"
        f" AND live.state = %(leased)s AND live.expires_at > %(now)s) < %(overlap)s"
    )
    window_end = (
        f"COALESCE((SELECT i.id FROM {item} i WHERE {in_level('0', '%(beyond)s')} ORDER BY {key}"
        f" LIMIT 1 OFFSET %(window)s), %(beyond)s)"
        if windowed else "%(beyond)s"
    )
    lock = " FOR NO KEY UPDATE SKIP LOCKED" if vendor == "postgresql" else ""
    walk = (
        f"SELECT i.id FROM {item} i WHERE {in_level('%(after)s', window_end)} AND {room}"
        f" ORDER BY {key} LIMIT 1{lock}"
    )
    return walk, f"SELECT 1 FROM {item} i WHERE i.id = %(item)s AND {room}"


def _fetch_one(sql: str, params) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _lease(project: Project, item_id: int, annotator, now: datetime) -> Assignment:
    shown_order = list(Response.objects.filter(item_id=item_id).values_list("position", flat=True))
    random.shuffle(shown_order)
    return Assignment.objects.create(
        project=project,
        item_id=item_id,
        annotator=annotator,
        shown_order=shown_order,
        leased_at=now,
        expires_at=now + timedelta(seconds=project.lease_seconds),
    )


def _locked_assignment(assignment_id: int, annotator) -> Assignment:
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("project")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or assignment.annotator_id != annotator.pk:
        raise NotYourLease()
    return assignment


def _check_live(assignment: Assignment, now: datetime) -> None:
    if assignment.state == SKIPPED:
        raise NotYourLease("You skipped this item, so it is no longer reserved for you.")
    if assignment.state == SUBMITTED:
        raise NotYourLease("You already submitted this item; use undo to change your answer.")
    if assignment.state != LEASED or assignment.expires_at <= now:
        raise LeaseExpired()


def _count_judgement(assignment: Assignment, now: datetime) -> None:
    """Add the judgement to its item's count, unless the item's room went to someone else meanwhile.

    A lease that runs out while its submission is on the way may already have been given to
    the next annotator, who saw it expired. The UPDATE waits for any lease being taken on this
    item; the fresh statement after it sees that lease, and an item over its overlap refuses.
    """
    Item.objects.filter(pk=assignment.item_id).update(judgement_count=F("judgement_count") + 1)
    item, assignments = Item._meta.db_table, Assignment._meta.db_table
    row = _fetch_one(
        f"SELECT i.judgement_count + (SELECT COUNT(*) FROM {assignments} live WHERE live.item_id = i.id"
        f" AND live.state = %s AND live.expires_at > %s AND live.id <> %s) FROM {item} i"
        f" WHERE i.id = %s AND NOT i.is_gold",
        [LEASED, connection.ops.adapt_datetimefield_value(now), assignment.pk, assignment.item_id],
    )
    if row is not None and row[0] > assignment.project.overlap:
        raise LeaseExpired()


def _validate(assignment: Assignment, verdict: Verdict, seconds_spent: float) -> None:
    errors = judgement_errors(assignment.project, len(assignment.shown_order), verdict, seconds_spent)
    if errors:
        raise InvalidJudgement(errors)


def _resubmit(assignment: Assignment, annotator, verdict: Verdict, rationale: str, seconds_spent: float,
              now: datetime) -> Judgement:
    """A second submission: the same answer is a retry; a different one edits, within the undo window."""
    judgement = assignment.judgement
    recorded = Verdict(ranks=judgement.ranks, ratings=judgement.ratings, strength=judgement.strength)
    if recorded == verdict and judgement.rationale == rationale:
        return judgement
    project = assignment.project
    _check_member(project, annotator, lock=False)
    if judgement.created_at + timedelta(seconds=project.undo_seconds) < now:
        raise UndoUnavailable(
            "You already submitted a different answer for this item, and the time to change it has passed."
        )
    _validate(assignment, verdict, seconds_spent)
    judgement.ranks, judgement.ratings, judgement.strength = verdict.ranks, verdict.ratings, verdict.strength
    judgement.rationale, judgement.seconds_spent = rationale, seconds_spent
    judgement.save(update_fields=["ranks", "ratings", "strength", "rationale", "seconds_spent", "updated_at"])
    return judgement
