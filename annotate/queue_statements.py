"""The SQL of the queue's hot path: one round trip per step, each statement built once per shape.

Plain SQL, not the ORM: building an ORM query costs more Python time than the database needs
to run it, and the ORM cannot say "walk these levels in order and stop at the first hit" or
"recheck and insert in one statement". Every statement takes named parameters (see
annotate/queue.py for their values) and runs on PostgreSQL and SQLite alike, except for the
locking clauses, which only PostgreSQL has and needs, and `record`, which on PostgreSQL is one
statement of three chained data-modifying steps.

Why the statements are cut where they are (READ COMMITTED: each statement sees what was
committed when it started, a lock wait does not refresh that view):
- `enter` locks the annotator's membership row and reads their live lease in the same
  statement; if it had to wait for the lock, `lease` notices the lease the other request
  took (its guard sees it) and the caller asks again.
- `walks` lock a candidate item; `lease` checks its room again in a later statement, which
  sees any lease committed before the lock was ours, and inserts the assignment only if the
  room is still there.
- `locked_assignment` locks the assignment and its item before `record` counts the live
  leases on that item, for the same reason.
"""
import functools

from annotate.models import Assignment, Item, Judgement, Membership, Project, Response

ITEM, ASSIGNMENT, JUDGEMENT = Item._meta.db_table, Assignment._meta.db_table, Judgement._meta.db_table
MEMBERSHIP, PROJECT, RESPONSE = Membership._meta.db_table, Project._meta.db_table, Response._meta.db_table
ASSIGNMENT_FIELDS = tuple(Assignment._meta.concrete_fields)
# What submit and skip need of the project: the judging rules and the room.
PROJECT_FIELDS = tuple(Project._meta.get_field(name) for name in (
    "id", "task_mode", "allow_ties", "rating_min", "rating_max", "overlap", "undo_seconds", "is_active"))
JUDGEMENT_COLUMNS = ("assignment_id", "project_id", "item_id", "annotator_id", "ranks", "ratings", "strength",
                     "shown_order", "rationale", "seconds_spent", "created_at", "updated_at")


def _live(alias: str) -> str:
    return f"{alias}.state = %(leased)s AND {alias}.expires_at > %(now)s"


def _columns(alias: str, fields) -> str:
    return ", ".join(f"{alias}.{field.column}" for field in fields)


# Item `i` has room for this annotator when it was never assigned to them (NOT_MINE) and,
# unless it is gold, its judgements + live leases < overlap (ROOM_LEFT).
NOT_MINE = (f"NOT EXISTS (SELECT 1 FROM {ASSIGNMENT} mine WHERE mine.item_id = i.id"
            f" AND mine.annotator_id = %(annotator)s)")
ROOM_LEFT = (f"i.judgement_count + (SELECT COUNT(*) FROM {ASSIGNMENT} live"
             f" WHERE live.item_id = i.id AND {_live('live')}) < %(overlap)s")


@functools.cache
def enter(vendor: str) -> str:
    """The membership (locked) and, beside it, the annotator's newest live lease in the project."""
    lock = " FOR UPDATE OF m" if vendor == "postgresql" else ""
    # Newest first: after an undo, the item being edited comes before the one the annotator had moved on to.
    return (
        f"SELECT m.is_suspended, {_columns('a', ASSIGNMENT_FIELDS)} FROM {MEMBERSHIP} m"
        f" LEFT JOIN {ASSIGNMENT} a ON a.id = (SELECT held.id FROM {ASSIGNMENT} held"
        f" WHERE held.annotator_id = %(annotator)s AND held.project_id = %(project)s AND {_live('held')}"
        f" ORDER BY held.leased_at DESC, held.id DESC LIMIT 1)"
        f" WHERE m.project_id = %(project)s AND m.user_id = %(annotator)s{lock}"
    )


@functools.cache
def walks(vendor: str, overlap: int, gold: str) -> tuple[str, str]:
    """Two statements, the second for when the first finds nothing, that return the item to lease
    next and its response positions ("0,1,...").

    The first tries each fullness level from the fullest down, reading at most a window of
    each level (`%(window)s` items) through the item_queue_walk index; the second tries each
    level again, whole. `gold` puts the least-judged gold item this annotator has not had
    "first" (before the windows), "last" (after the whole levels) or nowhere (""). UNION ALL
    runs its branches in order and LIMIT 1 stops at the first hit, so later branches cost
    nothing when an earlier one finds an item; the whole levels, rarely needed, are a
    statement of their own so that the usual request does not pay for planning them. An open
    item is locked (PostgreSQL skips items other requests hold; NO KEY UPDATE lets judgements,
    which key-share the item, be inserted meanwhile); a gold item is not, as gold is not
    capped by overlap.
    """
    levels = range(overlap - 1, -1, -1)
    windows = [_open_branch(vendor, level, windowed=True) for level in levels]
    whole_levels = [_open_branch(vendor, level, windowed=False) for level in levels]
    if gold == "first":
        windows.insert(0, _GOLD_BRANCH)
    elif gold == "last":
        whole_levels.append(_GOLD_BRANCH)
    return _first_of(vendor, windows), _first_of(vendor, whole_levels)


def _first_of(vendor: str, branches: list[str]) -> str:
    union = " UNION ALL ".join(f"SELECT id FROM ({branch}) b{n}" for n, branch in enumerate(branches))
    positions = ("string_agg(CAST(r.position AS text), ',')" if vendor == "postgresql"
                 else "group_concat(r.position, ',')")
    return (f"SELECT c.id, (SELECT {positions} FROM {RESPONSE} r WHERE r.item_id = c.id)"
            f" FROM ({union} LIMIT 1) c")


# `is_gold = %(gold)s`, not a bare `is_gold`, which SQLite cannot match to item_queue_walk.
_GOLD_BRANCH = (f"SELECT i.id FROM {ITEM} i WHERE i.project_id = %(project)s AND i.is_gold = %(gold)s"
                f" AND {NOT_MINE} ORDER BY i.judgement_count, i.id LIMIT 1")


def _open_branch(vendor: str, level: int, *, windowed: bool) -> str:
    if vendor == "postgresql":
        # Bounds and order on the whole index key: with equalities on its leading columns and
        # ORDER BY id, PostgreSQL may walk the primary key instead, through every earlier
        # project's items (measured: 20k rows read to lease an item of the second project).
        key = "i.project_id, i.is_gold, i.judgement_count, i.id"

        def in_level(before: str) -> str:
            level_key = f"%(project)s, %(regular)s, {level}"
            return f"({key}) > ({level_key}, 0) AND ({key}) < ({level_key}, {before})"
    else:
        key = "i.id"  # SQLite matches these equalities and the id range to the index itself

        def in_level(before: str) -> str:
            return (f"i.project_id = %(project)s AND i.is_gold = %(regular)s AND i.judgement_count = {level}"
                    f" AND i.id < {before}")

    # Items this annotator already had pile up at the front of a level (several annotators
    # fill an item in turn): the window stops the read before the level's (window+1)th item.
    window_end = (f"COALESCE((SELECT i.id FROM {ITEM} i WHERE {in_level('%(beyond)s')} ORDER BY {key}"
                  f" LIMIT 1 OFFSET %(window)s), %(beyond)s)" if windowed else "%(beyond)s")
    lock = " FOR NO KEY UPDATE SKIP LOCKED" if vendor == "postgresql" else ""
    # CASE fixes the order: the windows are mostly this annotator's own items, which one probe of
    # the (item, annotator) index rules out; PostgreSQL would count each one's live leases first
    # (measured: a fifth of the walk's time with 250 own items in the windows).
    return (f"SELECT i.id FROM {ITEM} i WHERE {in_level(window_end)}"
            f" AND CASE WHEN {NOT_MINE} THEN {ROOM_LEFT} ELSE FALSE END ORDER BY {key} LIMIT 1{lock}")


@functools.cache
def lease(vendor: str) -> str:
    """Insert the lease on `%(item)s` if it still has room for the annotator and they hold no other live lease."""
    return (
        f"INSERT INTO {ASSIGNMENT} (project_id, item_id, annotator_id, state, shown_order, leased_at, expires_at,"
        f" skip_reason, edit_of, updated_at) SELECT %(project)s, i.id, %(annotator)s, %(leased)s,"
        f" %(shown_order)s, %(now)s, %(expires_at)s, '', NULL, %(updated_at)s FROM {ITEM} i WHERE i.id = %(item)s"
        f" AND {NOT_MINE} AND (i.is_gold OR {ROOM_LEFT}) AND NOT EXISTS (SELECT 1 FROM {ASSIGNMENT} held"
        f" WHERE held.annotator_id = %(annotator)s AND held.project_id = %(project)s AND {_live('held')})"
        + _returning(vendor)
    )


@functools.cache
def locked_assignment(vendor: str) -> str:
    """The assignment, its project's rules and the annotator's suspension (NULL: not a member);
    on PostgreSQL the assignment and its item locked, so that `record` sees every lease on the item."""
    lock = " FOR UPDATE OF a FOR NO KEY UPDATE OF i" if vendor == "postgresql" else ""
    return (
        f"SELECT {_columns('a', ASSIGNMENT_FIELDS)}, {_columns('p', PROJECT_FIELDS)}, m.is_suspended"
        f" FROM {ASSIGNMENT} a JOIN {PROJECT} p ON p.id = a.project_id JOIN {ITEM} i ON i.id = a.item_id"
        f" LEFT JOIN {MEMBERSHIP} m ON m.project_id = a.project_id AND m.user_id = a.annotator_id"
        f" WHERE a.id = %(assignment)s{lock}"
    )


# Submitting is three steps: the assignment becomes submitted; the item counts the judgement,
# unless its room went to someone else meanwhile (a lease that ran out while its submission was
# on the way may already be someone else's); the judgement is inserted.
MARK_SUBMITTED = (f"UPDATE {ASSIGNMENT} SET state = %(submitted)s, edit_of = NULL, updated_at = %(updated_at)s"
                  f" WHERE id = %(assignment)s AND state = %(leased)s")
COUNT_JUDGEMENT = (
    f"UPDATE {ITEM} SET judgement_count = judgement_count + 1 WHERE id = %(item)s AND (is_gold"
    f" OR judgement_count + 1 + (SELECT COUNT(*) FROM {ASSIGNMENT} live WHERE live.item_id = %(item)s"
    f" AND {_live('live')} AND live.id <> %(assignment)s) <= %(overlap)s)"
)
INSERT_JUDGEMENT = (f"INSERT INTO {JUDGEMENT} ({', '.join(JUDGEMENT_COLUMNS)}) SELECT "
                    + ", ".join(f"%({column})s" for column in JUDGEMENT_COLUMNS))


@functools.cache
def record(vendor: str) -> tuple[str, ...]:
    """The statements that record a judgement; the last returns its id, or no row when the room is gone."""
    if vendor == "postgresql":
        return (f"WITH submitted AS ({MARK_SUBMITTED} RETURNING id),"
                f" counted AS ({COUNT_JUDGEMENT} AND EXISTS (SELECT 1 FROM submitted) RETURNING id)"
                f" {INSERT_JUDGEMENT} FROM counted RETURNING id",)
    return MARK_SUBMITTED, COUNT_JUDGEMENT, INSERT_JUDGEMENT


def _returning(vendor: str) -> str:
    # SQLite reports the new id as the cursor's lastrowid, in every version.
    return " RETURNING id" if vendor == "postgresql" else ""
