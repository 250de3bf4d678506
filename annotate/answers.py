"""What the annotate page posts, read into the queue's terms, and back again to refill the form.

The form names its fields by CANONICAL response position, so no display-order arithmetic
happens here: `preferred` (a position or "tie") for pairwise, `rank-<position>` for
ranking, `rating-<position>` for rating, plus `strength`, `rationale` and `seconds_spent`.
A draft is those field values as a dict; it refills the form after a refused submission
and when undo hands back the last judgement for editing.
"""
import math

from .models import Project, TaskMode
from .queue import InvalidJudgement

TIE = "tie"


def read_answer(project: Project, positions: list[int], data) -> dict:
    """Keyword arguments for `queue.submit` from posted form data.

    Raises InvalidJudgement when a field is missing or not a number; whether the values
    make a valid judgement (a permutation, inside the scale) is the queue's to decide.
    """
    errors: list[str] = []
    answer = {
        "strength": _optional_int(data.get("strength"), "strength", errors),
        "rationale": data.get("rationale", "").strip(),
        "seconds_spent": _seconds(data.get("seconds_spent")),
    }
    if project.task_mode == TaskMode.PAIRWISE:
        answer["ranks"] = _pairwise_ranks(data.get("preferred", ""), positions, errors)
    elif project.task_mode == TaskMode.RANKING:
        answer["ranks"] = _every_position(data, "rank", positions, "Rank every response before submitting.", errors)
    else:
        answer["ratings"] = _every_position(data, "rating", positions, "Rate every response before submitting.", errors)
    if errors:
        raise InvalidJudgement(errors)
    return answer


def draft_from_post(data) -> dict:
    return {name: data.get(name) for name in data if name != "csrfmiddlewaretoken"}


def draft_from_judgement(project: Project, values: dict) -> dict:
    """Form values showing an earlier judgement (`values` has ranks/ratings/strength/rationale)."""
    draft = {"rationale": values.get("rationale") or "", "strength": _text(values.get("strength"))}
    ranks, ratings = values.get("ranks"), values.get("ratings")
    if project.task_mode == TaskMode.PAIRWISE and ranks:
        draft["preferred"] = TIE if ranks[0] == ranks[1] else str(ranks.index(min(ranks)))
    for position, rank in enumerate(ranks or []):
        draft[f"rank-{position}"] = str(rank)
    for position, rating in enumerate(ratings or []):
        draft[f"rating-{position}"] = str(rating)
    return draft


def _pairwise_ranks(preferred: str, positions: list[int], errors: list[str]) -> list[int] | None:
    if preferred == TIE:
        return [1, 1]
    if preferred not in {str(p) for p in positions}:
        errors.append("Choose the better response (1 or 2), or a tie (0).")
        return None
    return [1 if position == int(preferred) else 2 for position in sorted(positions)]


def _every_position(data, field: str, positions: list[int], missing: str, errors: list[str]) -> list[int] | None:
    raw_values = [data.get(f"{field}-{position}") for position in sorted(positions)]
    if any(raw in (None, "") for raw in raw_values):
        errors.append(missing)
        return None
    values = [_optional_int(raw, field, errors) for raw in raw_values]
    return None if None in values else values


def _optional_int(raw, field: str, errors: list[str]) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        errors.append(f"The {field} {raw!r} is not a whole number.")
        return None


def _seconds(raw) -> float:
    """Time on the item as the page measured it; a missing or garbled value counts as zero."""
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _text(value) -> str:
    return "" if value is None else str(value)
