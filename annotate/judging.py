"""What makes a judgement complete and well-formed for its project, in plain-language errors.

Ranks and ratings are lists indexed by canonical response position (see annotate/models.py).
A ranking without ties is a permutation of 1..N. Where the project allows ties, equal ranks
are a tie and both usual numberings are accepted: dense (1, 1, 2) and competition (1, 1, 3).
"""
import math
from dataclasses import dataclass

from annotate.models import Judgement, Project, TaskMode

STRENGTHS = tuple(Judgement.Strength.values)


@dataclass(frozen=True)
class Verdict:
    """The values a judgement records, as submitted."""

    ranks: list[int] | None = None
    ratings: list[int] | None = None
    strength: int | None = None


def judgement_errors(project: Project, n_responses: int, verdict: Verdict, seconds_spent: float) -> list[str]:
    """Every reason why `verdict` cannot be recorded for an item with `n_responses` responses; empty when fine."""
    if project.task_mode == TaskMode.RATING:
        errors = (_shape_errors(verdict.ratings, verdict.ranks, n_responses, "rating", "rank")
                  or _rating_errors(project, verdict.ratings))
    else:
        errors = (_shape_errors(verdict.ranks, verdict.ratings, n_responses, "rank", "rating")
                  or _ranking_errors(project, verdict.ranks, n_responses))
    if verdict.strength is not None:
        errors += _strength_errors(project, verdict)
    if not _is_number(seconds_spent) or not math.isfinite(seconds_spent) or seconds_spent < 0:
        errors.append(f"The time spent must be a number of seconds, zero or more (got {seconds_spent!r}).")
    return errors


def _shape_errors(values, other_values, n_responses: int, noun: str, other_noun: str) -> list[str]:
    """One whole number per response, of the kind the project asks for."""
    if other_values is not None:
        return [f"This project asks for {noun}s: send {noun}s, not {other_noun}s."]
    if values is None:
        return [f"Give a {noun} for every response."]
    if not isinstance(values, list) or not all(_is_whole(v) for v in values):
        return [f"The {noun}s must be a list of whole numbers, one per response (got {values!r})."]
    if len(values) != n_responses:
        return [f"Give one {noun} per response: {n_responses} expected, {len(values)} given."]
    return []


def _rating_errors(project: Project, ratings: list[int]) -> list[str]:
    outside = [r for r in ratings if not project.rating_min <= r <= project.rating_max]
    if outside:
        return [f"Ratings {outside} are outside the scale {project.rating_min} to {project.rating_max}."]
    return []


def _ranking_errors(project: Project, ranks: list[int], n_responses: int) -> list[str]:
    if len(set(ranks)) == len(ranks):
        if sorted(ranks) != list(range(1, n_responses + 1)):
            return [f"Ranks {ranks} must use each of 1 to {n_responses} once (1 = best)."]
        return []
    if not project.allow_ties:
        return [f"Ranks {ranks} contain a tie, and this project does not allow ties."]
    if not (_is_dense(ranks) or _is_competition(ranks)):
        return [f"Ranks {ranks} are not a ranking with ties: number them 1, 1, 2 (or 1, 1, 3), 1 = best."]
    return []


def _strength_errors(project: Project, verdict: Verdict) -> list[str]:
    if project.task_mode != TaskMode.PAIRWISE:
        return ["A preference strength only applies to pairwise projects."]
    if _is_tie_of_two(verdict.ranks):
        return ["A tie has no preference strength; leave it out."]
    if verdict.strength not in STRENGTHS or isinstance(verdict.strength, bool):
        return [f"The strength must be one of {', '.join(map(str, STRENGTHS))} (slightly, clearly, much better)."]
    return []


def _is_tie_of_two(ranks) -> bool:
    return isinstance(ranks, list) and len(ranks) == 2 and all(_is_whole(r) for r in ranks) and ranks[0] == ranks[1]


def _is_dense(ranks: list[int]) -> bool:
    return sorted(set(ranks)) == list(range(1, len(set(ranks)) + 1))


def _is_competition(ranks: list[int]) -> bool:
    return all(rank == 1 + sum(other < rank for other in ranks) for rank in ranks)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
