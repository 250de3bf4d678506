"""Preferences from judgements: pure functions over ranks and ratings, no Django.

Ranks (1 = best, equal = tie) and ratings (higher = better) are lists indexed by canonical
response position. A judgement's opinion of one response pair (first < second) is a vote
`(first, second, direction, margin)`: direction +1 first better, -1 second better, 0 tie.

Margins, all in [0, 1], so that TRL's reward loss `-logsigmoid(r_chosen - r_rejected - margin)`
sees one scale whatever the task mode:
- per annotator: pairwise with a strength: strength / 3 (slightly 1/3, clearly 2/3, much 1);
  ranking: rank gap / (N - 1); rating: rating gap / (scale max - scale min); a tie: 0.
  Ratings closer than `rating_gap` count as a tie.
- consensus: the absolute mean of the signed margins of every vote on the pair (a vote for the
  winner +margin, against it -margin, a tie 0), so disagreement and weak votes both shrink it.
- agreement: the share of the pair's votes (ties included) that went the winning direction;
  the winner is the direction with more votes, and an even split is a tie.
"""
from collections import defaultdict
from functools import lru_cache

STRENGTH_LEVELS = 3


def judgement_votes(ranks, ratings, strength, *, rating_span: float, rating_gap: float) -> list[tuple]:
    if ranks is not None:
        return list(_rank_votes(tuple(ranks), strength))
    return _rating_votes(ratings, rating_span, rating_gap)


@lru_cache(maxsize=4096)
def _rank_votes(ranks: tuple, strength) -> tuple[tuple, ...]:
    """Cached: a ranking of N has few distinct orders, and exports see each one thousands of times."""
    n = len(ranks)
    scale = max(n - 1, 1)
    strength_margin = strength / STRENGTH_LEVELS if strength else None
    votes = []
    for first in range(n):
        rank_first = ranks[first]
        for second in range(first + 1, n):
            gap = ranks[second] - rank_first
            if gap == 0:
                votes.append((first, second, 0, 0.0))
            else:
                margin = strength_margin if strength_margin is not None else abs(gap) / scale
                votes.append((first, second, 1 if gap > 0 else -1, margin))
    return tuple(votes)


def _rating_votes(ratings, rating_span: float, rating_gap: float) -> list[tuple]:
    n = len(ratings)
    votes = []
    for first in range(n):
        for second in range(first + 1, n):
            gap = ratings[first] - ratings[second]
            if abs(gap) < rating_gap:
                votes.append((first, second, 0, 0.0))
            else:
                votes.append((first, second, 1 if gap > 0 else -1, abs(gap) / rating_span))
    return votes


def consensus(votes_per_judgement: list[list[tuple]]) -> dict[tuple[int, int], tuple[int, float, float]]:
    """(first, second) -> (direction, margin, agreement) over all judgements of one item."""
    tallies = defaultdict(lambda: [0, 0, 0, 0.0])  # for, against, total, signed margin sum
    for votes in votes_per_judgement:
        for first, second, direction, margin in votes:
            tally = tallies[first, second]
            tally[0] += direction > 0
            tally[1] += direction < 0
            tally[2] += 1
            tally[3] += direction * margin
    result = {}
    for pair, (wins, losses, total, signed) in tallies.items():
        direction = (wins > losses) - (wins < losses)
        agreeing = wins if direction > 0 else losses if direction < 0 else total - wins - losses
        result[pair] = (direction, abs(signed) / total if direction else 0.0, agreeing / total)
    return result


def best_position(ranks, ratings) -> int | None:
    """The one best response of a judgement, or None when the best is tied."""
    scores = [-rank for rank in ranks] if ranks is not None else list(ratings)
    top = max(scores)
    if scores.count(top) > 1:
        return None
    return scores.index(top)


def consensus_best(bests: list[int | None]) -> tuple[int | None, float]:
    """The response most judgements put first, alone, and the share of judgements that did."""
    counts = defaultdict(int)
    for best in bests:
        if best is not None:
            counts[best] += 1
    if not counts:
        return None, 0.0
    top = max(counts.values())
    leaders = [position for position, count in counts.items() if count == top]
    if len(leaders) > 1:
        return None, top / len(bests)
    return leaders[0], top / len(bests)


def pair_selections(judgements, options, *, rating_span: float, counts) -> list[tuple]:
    """(chosen, rejected, margin, agreement) rows of one item; `counts` tallies what was left out."""
    keep_ties = options.ties == "keep"
    if not _needs_consensus(options):
        return _per_annotator_selections(judgements, options.rating_gap, keep_ties, rating_span=rating_span, counts=counts)
    votes = [
        judgement_votes(ranks, ratings, strength, rating_span=rating_span, rating_gap=options.rating_gap)
        for _, ranks, ratings, strength in judgements
    ]
    agreed = consensus(votes)
    if options.mode == "consensus":
        candidates = (((*pair, *outcome[:2]), outcome[2]) for pair, outcome in sorted(agreed.items()))
    else:
        candidates = ((vote, agreed[vote[:2]][2]) for judgement_votes_ in votes for vote in judgement_votes_)
    rows = []
    for vote, agreement in candidates:
        row = _oriented(vote, agreement, keep_ties)
        if row is None:
            counts["ties_dropped"] += 1
        elif agreement < options.min_agreement:
            counts["below_agreement"] += 1
        else:
            rows.append(row)
    return rows


def _per_annotator_selections(judgements, rating_gap: float, keep_ties: bool, *, rating_span: float, counts) -> list[tuple]:
    """Without agreement a judgement's rows follow from its own ranks or ratings alone, so they
    are made once per distinct judgement: the common export's fast path."""
    rows, ties = [], 0
    for _, ranks, ratings, strength in judgements:
        selected, dropped = _judgement_selections(
            ranks if ranks is None else tuple(ranks), ratings if ratings is None else tuple(ratings),  # a cache key
            strength, rating_span, rating_gap, keep_ties,
        )
        rows += selected
        ties += dropped
    if ties:
        counts["ties_dropped"] += ties
    return rows


@lru_cache(maxsize=4096)
def _judgement_selections(ranks, ratings, strength, rating_span, rating_gap, keep_ties) -> tuple[tuple, int]:
    """One judgement's rows (agreement None) and how many ties it dropped."""
    votes = judgement_votes(ranks, ratings, strength, rating_span=rating_span, rating_gap=rating_gap)
    rows = tuple(row for row in (_oriented(vote, None, keep_ties) for vote in votes) if row is not None)
    return rows, len(votes) - len(rows)


def _oriented(vote: tuple, agreement, keep_ties: bool) -> tuple | None:
    """A vote as a (chosen, rejected, margin, agreement) row; None for a tie that is dropped."""
    first, second, direction, margin = vote
    if direction > 0:
        return (first, second, margin, agreement)
    if direction < 0:
        return (second, first, margin, agreement)
    return (first, second, 0.0, agreement) if keep_ties else None  # a tie keeps canonical order


def sft_selections(judgements, options, *, counts) -> list[tuple]:
    """(best position, agreement) rows of one item: each judgement's best, or the consensus best."""
    bests = [best_position(ranks, ratings) for _, ranks, ratings, _ in judgements]
    counts["best_tied"] += bests.count(None)
    if options.mode == "consensus":
        best, agreement = consensus_best(bests) if bests else (None, 0.0)
        candidates = [] if best is None else [(best, agreement)]
    else:
        candidates = [(best, bests.count(best) / len(bests)) for best in bests if best is not None]
    rows = []
    for best, agreement in candidates:
        if agreement < options.min_agreement:
            counts["below_agreement"] += 1
        else:
            rows.append((best, agreement))
    return rows


def _needs_consensus(options) -> bool:
    return options.mode == "consensus" or options.min_agreement > 0 or options.include_agreement
