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
  lease ran out on the way is refused if its room went to someone else (`COUNT_JUDGEMENT`).
  On SQLite, transactions are IMMEDIATE (see settings): one writer at a time, so the same
  code is correct there too.
- A request never scans the project: it reads a bounded window of each fullness level
  through the item_queue_walk index (see WALK_WINDOW).
- The hot path (next_assignment, submit) is a few plain statements, one round trip each;
  annotate/queue_statements.py holds them and says where and why they are cut.
"""
import random
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.utils import timezone

from annotate import queue_statements as statements
from annotate.judging import Verdict, judgement_errors
from annotate.models import Assignment, Item, Judgement, Project
from annotate.project_stats import project_progress

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
    params, walks = _params(project, annotator, now), None
    with transaction.atomic():
        # A lease refused by its recheck means that a request committed meanwhile took the
        # item's room, or leased an item to this annotator while we waited for their
        # membership lock: ask again, and the fresh statements see what changed.
        while True:
            held = _enter(project, params)
            if held is not None:
                return held
            walks = walks or statements.walks(connection.vendor, project.overlap, _gold_place(project))
            candidate = next(filter(None, (_fetch_one(walk, params) for walk in walks)), None)
            if candidate is None:
                return None
            leased = _lease(project, annotator, candidate, params, now)
            if leased is not None:
                return leased


def submit(assignment_id: int, annotator, *, ranks=None, ratings=None, strength=None, rationale: str = "",
           seconds_spent: float, now: datetime | None = None) -> Judgement:
    """Record the judgement for a leased assignment; the same submission again returns the same Judgement."""
    now = now or timezone.now()
    verdict = Verdict(ranks=ranks, ratings=ratings, strength=strength)
    with transaction.atomic():
        assignment, suspended = _locked_assignment(assignment_id, annotator)
        if assignment.state == SUBMITTED:
            return _resubmit(assignment, annotator, suspended, verdict, rationale, seconds_spent, now)
        _check_standing(assignment.project, suspended)
        _check_live(assignment, now)
        _validate(assignment, verdict, seconds_spent)
        return _record(assignment, annotator, verdict, rationale, seconds_spent, now)


def skip(assignment_id: int, annotator, *, reason: str, now: datetime | None = None) -> Assignment:
    """Give a leased item back with a reason; it never comes back to this annotator."""
    now = now or timezone.now()
    reason = reason.strip()
    with transaction.atomic():
        assignment, suspended = _locked_assignment(assignment_id, annotator)
        if assignment.state == SKIPPED:
            return assignment
        _check_standing(assignment.project, suspended)
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
        _enter(project, _params(project, annotator, now))  # for the lock and the checks; any live lease stays
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
    """Counts for progress bars: this annotator's judgements beside the project's own progress."""
    return {**project_progress(project), "mine": Judgement.objects.filter(project=project, annotator=annotator).count()}


def _params(project: Project, annotator, now: datetime) -> dict:
    """The parameters the queue's statements share (see annotate/queue_statements.py)."""
    return {
        "project": project.pk, "annotator": annotator.pk, "overlap": project.overlap,
        "now": connection.ops.adapt_datetimefield_value(now), "leased": LEASED, "submitted": SUBMITTED,
        "regular": False, "gold": True, "window": WALK_WINDOW, "beyond": 2**62,
    }


def _enter(project: Project, params: dict) -> Assignment | None:
    """Lock the annotator's membership, check they may work here, and return their live lease if any.

    Locking the membership makes one annotator's requests take turns, so two tabs asking at
    once end up with one lease, not two.
    """
    row = _fetch_one(statements.enter(connection.vendor), params)
    _check_standing(project, None if row is None else row[0])
    return None if row[1] is None else _from_row(Assignment, statements.ASSIGNMENT_FIELDS, row[1:])


def _check_standing(project: Project, suspended: bool | None) -> None:
    """Refuse a non-member (suspended is None), a suspended annotator, or a closed project."""
    if suspended is None:
        raise NotAMember()
    if suspended:
        raise AnnotatorSuspended()
    if not project.is_active:
        raise ProjectClosed()


def _gold_place(project: Project) -> str:
    """Where gold comes in the walk: first on a gold turn (at the project's gold rate), else last."""
    if project.gold_rate <= 0:
        return ""
    return "first" if random.random() < project.gold_rate else "last"


def _lease(project: Project, annotator, candidate: tuple, params: dict, now: datetime) -> Assignment | None:
    """Lease the walk's candidate, shuffling its responses; None when its room went to someone else."""
    item_id, positions = candidate
    shown_order = sorted(int(position) for position in positions.split(",")) if positions else []
    random.shuffle(shown_order)
    lease = {"project_id": project.pk, "item_id": item_id, "annotator_id": annotator.pk, "state": LEASED,
             "shown_order": shown_order, "leased_at": now, "expires_at": now + timedelta(seconds=project.lease_seconds),
             "skip_reason": "", "edit_of": None, "updated_at": timezone.now()}
    written = _prepared(Assignment, {name: lease[name] for name in ("shown_order", "expires_at", "updated_at")})
    assignment_id = _insert((statements.lease(connection.vendor),), {**params, **written, "item": item_id})
    if assignment_id is None:
        return None
    assignment = _built(Assignment, id=assignment_id, **lease)
    assignment.project, assignment.annotator = project, annotator
    return assignment


def _locked_assignment(assignment_id: int, annotator) -> tuple[Assignment, bool | None]:
    """The annotator's assignment, locked, with its project's rules; and whether the annotator is
    suspended (None: no longer a member)."""
    row = _fetch_one(statements.locked_assignment(connection.vendor), {"assignment": assignment_id})
    if row is None:
        raise NotYourLease()
    fields, project_fields = statements.ASSIGNMENT_FIELDS, statements.PROJECT_FIELDS
    assignment = _from_row(Assignment, fields, row[:len(fields)])
    if assignment.annotator_id != annotator.pk:
        raise NotYourLease()
    assignment.project = _from_row(Project, project_fields, row[len(fields):len(fields) + len(project_fields)])
    return assignment, row[-1]


def _check_live(assignment: Assignment, now: datetime) -> None:
    if assignment.state == SKIPPED:
        raise NotYourLease("You skipped this item, so it is no longer reserved for you.")
    if assignment.state == SUBMITTED:
        raise NotYourLease("You already submitted this item; use undo to change your answer.")
    if assignment.state != LEASED or assignment.expires_at <= now:
        raise LeaseExpired()


def _validate(assignment: Assignment, verdict: Verdict, seconds_spent: float) -> None:
    errors = judgement_errors(assignment.project, len(assignment.shown_order), verdict, seconds_spent)
    if errors:
        raise InvalidJudgement(errors)


def _record(assignment: Assignment, annotator, verdict: Verdict, rationale: str, seconds_spent: float,
            now: datetime) -> Judgement:
    """Mark the assignment submitted, count the judgement on its item and insert it, in one round trip on
    PostgreSQL; refused when the item's room went to someone else meanwhile (see COUNT_JUDGEMENT)."""
    stamp = timezone.now()
    values = {"assignment_id": assignment.pk, "project_id": assignment.project_id, "item_id": assignment.item_id,
              "annotator_id": annotator.pk, "ranks": verdict.ranks, "ratings": verdict.ratings,
              "strength": verdict.strength, "shown_order": assignment.shown_order, "rationale": rationale,
              "seconds_spent": seconds_spent, "created_at": stamp, "updated_at": stamp}
    prepared = _prepared(Judgement, values)
    judgement_id = _insert(statements.record(connection.vendor), {
        **_params(assignment.project, annotator, now), **prepared, "assignment": assignment.pk, "item": assignment.item_id,
    })
    if judgement_id is None:
        raise LeaseExpired()
    assignment.state, assignment.edit_of, assignment.updated_at = SUBMITTED, None, stamp
    judgement = _built(Judgement, id=judgement_id, **values)
    judgement.assignment, judgement.annotator = assignment, annotator
    # The ORM's create would send it: flag refreshes count every recorded judgement (annotate/signals.py).
    post_save.send(sender=Judgement, instance=judgement, created=True, update_fields=None, raw=False,
                   using=connection.alias)
    return judgement


def _resubmit(assignment: Assignment, annotator, suspended: bool | None, verdict: Verdict, rationale: str,
              seconds_spent: float, now: datetime) -> Judgement:
    """A second submission: the same answer is a retry; a different one edits, within the undo window."""
    judgement = assignment.judgement
    recorded = Verdict(ranks=judgement.ranks, ratings=judgement.ratings, strength=judgement.strength)
    if recorded == verdict and judgement.rationale == rationale:
        return judgement
    project = assignment.project
    _check_standing(project, suspended)
    if judgement.created_at + timedelta(seconds=project.undo_seconds) < now:
        raise UndoUnavailable(
            "You already submitted a different answer for this item, and the time to change it has passed."
        )
    _validate(assignment, verdict, seconds_spent)
    judgement.ranks, judgement.ratings, judgement.strength = verdict.ranks, verdict.ratings, verdict.strength
    judgement.rationale, judgement.seconds_spent = rationale, seconds_spent
    judgement.save(update_fields=["ranks", "ratings", "strength", "rationale", "seconds_spent", "updated_at"])
    return judgement


def _fetch_one(sql: str, params) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _insert(sqls: tuple[str, ...], params: dict) -> int | None:
    """Run the statements in turn; the id the last one inserted, or None as soon as one changes no row."""
    with connection.cursor() as cursor:
        for sql in sqls:
            cursor.execute(sql, params)
            if cursor.rowcount == 0:
                return None
        return cursor.fetchone()[0] if cursor.description else cursor.lastrowid


def _prepared(model, values: dict) -> dict:
    """Field values as the database driver takes them (JSON, datetimes), by column name."""
    fields = model._meta
    return {name: fields.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()}


def _built(model, **values):
    """A model instance of values the caller already has, as if loaded from the database (no query)."""
    return model.from_db(connection.alias, None, [values[field.attname] for field in model._meta.concrete_fields])


def _from_row(model, fields, row):
    """A model instance from raw columns of `fields`, converted as the ORM would (JSON, datetimes)."""
    values = []
    for field, value in zip(fields, row):
        col = field.cached_col
        for convert in connection.ops.get_db_converters(col) + field.get_db_converters(connection):
            value = convert(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], values)
