"""Bias and quality flags: which annotators' labels not to trust, and why, in plain language.

A project's judgements are loaded once into flat numpy arrays (`JudgementArrays`), one row per
judgement, columns indexed by canonical response position; every statistic is then a handful of
vectorised group-bys over annotators. Tests run across annotators are adjusted with
Benjamini-Hochberg, so `alpha` is a false-discovery rate among the annotators flagged.

A judgement's "pick" is its unique best response (lowest rank or highest rating); judgements with
a tie at the top have no pick and are left out of the pick-based statistics.
"""
import json
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from operator import itemgetter

import numpy as np
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from scipy import stats

from .driver_rows import driver_rows
from .flag_thresholds import merged_flag_thresholds
from .models import AnnotatorFlag, Item, Judgement, Project, Response, TaskMode

Kind = AnnotatorFlag.Kind
NO_PICK = -1


@dataclass(frozen=True)
class FlagResult:
    annotator_id: int
    kind: str
    statistic: float
    p_value: float | None
    reason: str


@dataclass
class JudgementArrays:
    """One project's judgements as arrays; rows are in the order the judgements were made.

    scores: (J, N) preference per canonical position, higher = preferred, nan where the item has
    fewer responses. shown_order: (J, N) canonical position per display slot, -1 padded.
    lengths: (J, N) characters per response. gold_scores: (J, N) the gold answer as scores,
    nan for non-gold items. `unit` names a judgement in reasons ("pairs", "rankings", "ratings").
    The arrays are not to be changed once the statistics start: what is derived from them is cached.
    """

    annotator_ids: np.ndarray  # the user id of each annotator index
    annotator: np.ndarray
    item: np.ndarray
    scores: np.ndarray
    shown_order: np.ndarray
    lengths: np.ndarray
    seconds: np.ndarray
    gold_scores: np.ndarray
    unit: str = "pairs"

    @property
    def n_annotators(self) -> int:
        return len(self.annotator_ids)

    @cached_property
    def n_responses(self) -> np.ndarray:
        return (~np.isnan(self.scores)).sum(axis=1)

    @cached_property
    def pick(self) -> np.ndarray:
        return picks(self.scores)


# -- loading ------------------------------------------------------------------------------

UNITS = {TaskMode.PAIRWISE: "pairs", TaskMode.RANKING: "rankings", TaskMode.RATING: "ratings"}


def load_judgement_arrays(project: Project) -> JudgementArrays:
    """The project's judgements, response lengths and gold answers: three flat queries, each
    turned into arrays column by column, without a Python object per judgement beyond the
    driver's row tuples."""
    use_ratings = project.task_mode == TaskMode.RATING
    preference = "ratings" if use_ratings else "ranks"
    rows = list(driver_rows(
        Judgement.objects.filter(project=project)
        .order_by("created_at", "id")
        # JSON read as text and decoded once per distinct text below: per-row decoding would dominate.
        .values_list("annotator_id", "item_id", Cast(preference, TextField()), Cast("shown_order", TextField()), "seconds_spent")
    ))
    annotator_ids, annotator = np.unique(_column(rows, 0, np.int64), return_inverse=True)
    item_ids, item = np.unique(_column(rows, 1, np.int64), return_inverse=True)
    preference_index, preference_patterns = _distinct_json(rows, 2)
    shown_index, shown_patterns = _distinct_json(rows, 3)
    width = max((len(p) for p in preference_patterns), default=2)
    scores = _padded(preference_patterns, width, np.nan)[preference_index]
    if not use_ratings:
        scores = -scores  # rank 1 is best

    # The stored character counts (and an index holding them) spare reading every text of the project.
    length_rows = list(driver_rows(Response.objects.filter(item__project=project).values_list("item_id", "position", "char_count")))
    lengths = np.fromiter(chain.from_iterable(length_rows), dtype=np.int64, count=3 * len(length_rows)).reshape(-1, 3)
    gold_rows = Item.objects.filter(project=project, is_gold=True).values_list("id", "gold_answer")
    gold_sign = 1 if use_ratings else -1

    return JudgementArrays(
        annotator_ids=annotator_ids,
        annotator=annotator.astype(np.int64),
        item=item.astype(np.int64),
        scores=scores,
        shown_order=_padded(shown_patterns, width, -1)[shown_index].astype(np.int64),
        lengths=_per_item(lengths, item_ids, width)[item],
        seconds=_column(rows, 4, float),
        gold_scores=(gold_sign * _per_item(_gold_table(gold_rows), item_ids, width))[item],
        unit=UNITS[project.task_mode],
    )


def _column(rows: list[tuple], index: int, dtype) -> np.ndarray:
    return np.fromiter(map(itemgetter(index), rows), dtype=dtype, count=len(rows))


def _distinct_json(rows: list[tuple], index: int) -> tuple[np.ndarray, list]:
    """(codes, lists): column `index` of JSON texts (None for SQL NULL) as indexes into its distinct
    decoded values. A project repeats a few answer patterns ([1, 2], [2, 1], ...) a million times,
    so each distinct text is decoded once; the coding loops run inside dict and map, not in Python."""
    codes = dict.fromkeys(map(itemgetter(index), rows))
    for code, text in enumerate(codes):
        codes[text] = code
    index_of = np.fromiter(map(codes.__getitem__, map(itemgetter(index), rows)), dtype=np.int64, count=len(rows))
    return index_of, [json.loads(text) if text else [] for text in codes]


def _padded(lists: list, width: int, fill) -> np.ndarray:
    """Lists of numbers (None allowed) as a (len, width) float array padded with `fill`."""
    if lists and all(len(values) == width for values in lists):
        return np.array(lists, dtype=float)  # the common case: every item has N responses
    array = np.full((len(lists), width), fill, dtype=float)
    for row, values in enumerate(lists):
        array[row, : len(values)] = [np.nan if value is None else value for value in values]
    return array


def _per_item(table: np.ndarray, item_ids: np.ndarray, width: int) -> np.ndarray:
    """(item_id, position, value) rows as a (len(item_ids), width) array of values by canonical
    position, nan where there is none; rows of other items or beyond `width` are left out.
    `item_ids` is sorted (np.unique)."""
    by_item = np.full((len(item_ids), width), np.nan)
    row_item = np.searchsorted(item_ids, table[:, 0])
    inside = (row_item < len(item_ids)) & (table[:, 1] < width)
    inside[inside] &= item_ids[row_item[inside]] == table[inside, 0]
    by_item[row_item[inside], table[inside, 1].astype(np.int64)] = table[inside, 2]
    return by_item


def _gold_table(gold_rows) -> np.ndarray:
    triples = [
        (item_id, position, value)
        for item_id, answer in gold_rows
        if isinstance(answer, list)
        for position, value in enumerate(answer)
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    return np.array(triples, dtype=float).reshape(-1, 3)


# -- per-judgement quantities ------------------------------------------------------------


def picks(scores: np.ndarray) -> np.ndarray:
    """The canonical position of each judgement's unique best response, NO_PICK on a tie at the top."""
    filled = np.where(np.isnan(scores), -np.inf, scores)
    is_best = filled == filled.max(axis=1, keepdims=True)
    return np.where(is_best.sum(axis=1) == 1, is_best.argmax(axis=1), NO_PICK)


def shown_slot_of(shown_order: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The display slot (0 = first shown) at which each judgement showed canonical `positions`."""
    return (shown_order == positions[:, None]).argmax(axis=1)


def agreement_with_others(
    item: np.ndarray, pick: np.ndarray, width: int, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(has_majority, agrees): whether the other annotators of the item have a unique plurality
    outcome (a pick, or "tie") without this judgement, and whether this judgement matches it.
    `weight` (per judgement, default 1) lets reliable annotators count for more."""
    weight = np.ones(len(item)) if weight is None else weight
    outcome = np.where(pick == NO_PICK, width, pick)
    n_items = int(item.max()) + 1 if len(item) else 0
    votes = np.bincount(item * (width + 1) + outcome, weights=weight, minlength=n_items * (width + 1))
    others = votes.reshape(n_items, width + 1)[item]
    others[np.arange(len(item)), outcome] -= weight
    ordered = np.sort(others, axis=1)
    # A tolerance, because a judgement's own weight was added and taken away again.
    has_majority = (ordered[:, -1] > 1e-9) & (ordered[:, -1] - ordered[:, -2] > 1e-9)
    return has_majority, has_majority & (others.argmax(axis=1) == outcome)


def agreement_with_reliable_others(data: "JudgementArrays") -> tuple[np.ndarray, np.ndarray]:
    """Agreement with the others' majority, where each annotator's vote counts by how far their own
    plain agreement beats chance (0 at chance or below): a few random or biased annotators then
    cannot blur the consensus that everyone, including honest annotators, is measured against."""
    width = data.scores.shape[1]
    has_majority, agrees = agreement_with_others(data.item, data.pick, width)
    _, _, share, chance = tally(data, has_majority, agrees[has_majority])
    with np.errstate(invalid="ignore", divide="ignore"):
        reliability = np.nan_to_num(np.clip((share - chance) / (1 - chance), 0, 1), nan=1.0)
    return agreement_with_others(data.item, data.pick, width, reliability[data.annotator])


# -- statistics helpers ----------------------------------------------------------------


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """BH-adjusted q-values; nan entries (annotators not tested) stay nan and do not count."""
    q = np.full(len(p_values), np.nan)
    tested = ~np.isnan(p_values)
    if tested.any():
        q[tested] = stats.false_discovery_control(p_values[tested], method="bh")
    return q


def binomial_two_sided(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Exact two-sided binomial p-values (the smaller tail doubled), vectorised."""
    tails = np.minimum(stats.binom.cdf(k, n, p), stats.binom.sf(k - 1, n, p))
    return np.minimum(1.0, 2 * tails)


def group_sum(groups: np.ndarray, values, n_groups: int) -> np.ndarray:
    return np.bincount(groups, weights=np.broadcast_to(values, groups.shape).astype(float), minlength=n_groups)


def group_median(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """The median of `values` within each group (nan for empty groups)."""
    order = np.argsort(values)
    # Stable, so values stay sorted within each group; group numbers in the smallest integer type
    # that holds them let numpy use a radix sort (a lexsort of both keys takes about three times as long).
    order = order[np.argsort(groups.astype(np.min_scalar_type(max(n_groups - 1, 0)))[order], kind="stable")]
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    sorted_values = values[order]
    median = np.full(n_groups, np.nan)
    present = sizes > 0
    low = starts[present] + (sizes[present] - 1) // 2
    high = starts[present] + sizes[present] // 2
    median[present] = (sorted_values[low] + sorted_values[high]) / 2
    return median


def tally(data: "JudgementArrays", rows: np.ndarray, hits: np.ndarray):
    """Per annotator over the judgements selected by `rows`: (n, hits k, share k/n, chance), where
    chance is the share a uniform random pick among each judgement's responses would hit."""
    who = data.annotator[rows]
    n = group_sum(who, 1, data.n_annotators)
    k = group_sum(who, hits, data.n_annotators)
    with np.errstate(invalid="ignore", divide="ignore"):
        return n, k, k / n, group_sum(who, 1 / data.n_responses[rows], data.n_annotators) / n


def _tested(p_values: np.ndarray, enough: np.ndarray) -> np.ndarray:
    return benjamini_hochberg(np.where(enough, p_values, np.nan))


# -- the flags --------------------------------------------------------------------------------


def position_bias(data: JudgementArrays, t: dict) -> list[FlagResult]:
    pick = data.pick
    decided = pick != NO_PICK
    first = shown_slot_of(data.shown_order[decided], pick[decided]) == 0
    n, k, share, chance = tally(data, decided, first)
    q = _tested(binomial_two_sided(k, n, chance), n >= t["min_judgements"])
    flagged = (q < t["alpha"]) & (np.abs(share - chance) >= t["position_min_effect"])
    return [
        FlagResult(
            int(data.annotator_ids[a]), Kind.POSITION_BIAS, float(share[a]), float(q[a]),
            f"Picked the first-shown response in {'only ' if share[a] < chance[a] else ''}{k[a]:.0f} of "
            f"{n[a]:.0f} {data.unit} ({share[a]:.0%}); chance is {chance[a]:.0%}.",
        )
        for a in np.flatnonzero(flagged)
    ]


def length_bias(data: JudgementArrays, t: dict) -> list[FlagResult]:
    pick = data.pick
    longest = picks(data.lengths)  # the unique longest response, NO_PICK when lengths tie
    usable = (pick != NO_PICK) & (longest != NO_PICK)
    n, k, share, _ = tally(data, usable, pick[usable] == longest[usable])
    n_others, k_others = n.sum() - n, k.sum() - k
    with np.errstate(invalid="ignore", divide="ignore"):
        share_others = k_others / n_others
        pooled = k.sum() / n.sum()
        z = (share - share_others) / np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_others))
    p = 2 * stats.norm.sf(np.abs(z))
    q = _tested(p, (n >= t["min_judgements"]) & (n_others >= t["min_judgements"]))
    flagged = (q < t["alpha"]) & (np.abs(share - share_others) >= t["length_min_effect"])
    return [
        FlagResult(
            int(data.annotator_ids[a]), Kind.LENGTH_BIAS, float(share[a] - share_others[a]), float(q[a]),
            f"Picked the longest response in {k[a]:.0f} of {n[a]:.0f} {data.unit} ({share[a]:.0%}); "
            f"the other annotators did so in {share_others[a]:.0%} of theirs.",
        )
        for a in np.flatnonzero(flagged)
    ]


def too_fast(data: JudgementArrays, t: dict) -> list[FlagResult]:
    reading_seconds = np.nansum(data.lengths, axis=1) / t["reading_chars_per_second"]
    too_quick = data.seconds < reading_seconds
    n = group_sum(data.annotator, 1, data.n_annotators)
    k = group_sum(data.annotator, too_quick, data.n_annotators)
    median_seconds = group_median(data.annotator, data.seconds, data.n_annotators)
    median_reading = group_median(data.annotator, reading_seconds, data.n_annotators)
    # Sign test: are most judgements faster than reading allows (the median below the floor)?
    q = _tested(stats.binom.sf(k - 1, n, 0.5), n >= t["min_judgements"])
    flagged = (q < t["alpha"]) & (2 * k > n)
    return [
        FlagResult(
            int(data.annotator_ids[a]), Kind.TOO_FAST, float(median_seconds[a]), float(q[a]),
            f"Took a median {median_seconds[a]:.1f} s per judgement where reading the responses takes at least "
            f"{median_reading[a]:.1f} s (at {t['reading_chars_per_second']:g} characters a second); "
            f"{k[a]:.0f} of {n[a]:.0f} {data.unit} were faster than that.",
        )
        for a in np.flatnonzero(flagged)
    ]


def uniform_timing(data: JudgementArrays, t: dict) -> list[FlagResult]:
    n = group_sum(data.annotator, 1, data.n_annotators)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = group_sum(data.annotator, data.seconds, data.n_annotators) / n
        variance = group_sum(data.annotator, data.seconds**2, data.n_annotators) / n - mean**2
        cv = np.sqrt(np.maximum(variance, 0)) / mean
    flagged = (n >= t["min_judgements"]) & (cv < t["uniform_timing_max_cv"])
    return [
        FlagResult(
            int(data.annotator_ids[a]), Kind.UNIFORM_TIMING, float(cv[a]), None,
            f"Spent {mean[a]:.1f} s on every judgement give or take {cv[a] * mean[a]:.1f} s over {n[a]:.0f} "
            f"{data.unit} (coefficient of variation {cv[a]:.2f}); people's times vary far more.",
        )
        for a in np.flatnonzero(flagged)
    ]


def straight_lining(data: JudgementArrays, t: dict) -> list[FlagResult]:
    in_shown_order = np.take_along_axis(data.scores, np.maximum(data.shown_order, 0), axis=1)
    in_shown_order[data.shown_order < 0] = np.nan
    # One integer per answer pattern (the scores slot by slot), so patterns can be counted.
    low = np.nanmin(in_shown_order) if len(in_shown_order) else 0
    digits = np.where(np.isnan(in_shown_order), 0, in_shown_order - low + 1).astype(np.int64)
    base = int(digits.max()) + 1 if len(digits) else 1
    pattern = digits @ (base ** np.arange(digits.shape[1], dtype=np.int64))
    keys, first_row, counts = np.unique(
        data.annotator * (int(pattern.max()) + 1 if len(pattern) else 1) + pattern, return_index=True, return_counts=True
    )
    owners = data.annotator[first_row]
    modal = np.zeros(data.n_annotators, dtype=np.int64)
    np.maximum.at(modal, owners, counts)
    example = np.full(data.n_annotators, -1)
    is_modal = counts == modal[owners]
    example[owners[is_modal]] = first_row[is_modal]
    n = group_sum(data.annotator, 1, data.n_annotators)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = modal / n
    flagged = (n >= t["min_judgements"]) & (share >= t["straight_lining_share"])
    return [
        FlagResult(
            int(data.annotator_ids[a]), Kind.STRAIGHT_LINING, float(share[a]), None,
            f"Gave the same answer ({_describe_pattern(in_shown_order[example[a]], data.unit)}) in "
            f"{modal[a]} of {n[a]:.0f} {data.unit} ({share[a]:.0%}).",
        )
        for a in np.flatnonzero(flagged)
    ]


def _describe_pattern(scores_in_shown_order: np.ndarray, unit: str) -> str:
    values = scores_in_shown_order[~np.isnan(scores_in_shown_order)]
    if unit == "ratings":
        return "ratings " + ", ".join(f"{v:g}" for v in values) + " in the order shown"
    if unit == "pairs" and len(values) == 2:
        return "tie" if values[0] == values[1] else ("first shown better" if values[0] > values[1] else "second shown better")
    return "ranks " + ", ".join(f"{-v:g}" for v in values) + " in the order shown"


def random_choices(data: JudgementArrays, t: dict, has_majority: np.ndarray, agrees: np.ndarray) -> list[FlagResult]:
    n, k, share, chance = tally(data, has_majority, agrees[has_majority])
    # One-sided: is agreement better than picking at random? Not shown at `alpha`, or barely
    # above chance, and the annotator's choices carry no signal we can see.
    p_better = stats.binom.sf(k - 1, n, chance)
    flagged = (n >= t["min_judgements"]) & ((p_better > t["alpha"]) | (share - chance < t["random_min_margin"]))
    return [
        FlagResult(
            int(data.annotator_ids[a]), Kind.RANDOM, float(share[a]), float(p_better[a]),
            f"Agreed with the other annotators' majority in {k[a]:.0f} of {n[a]:.0f} {data.unit} ({share[a]:.0%}); "
            f"picking at random would agree about {chance[a]:.0%} of the time.",
        )
        for a in np.flatnonzero(flagged)
    ]


def gold_accuracy(data: JudgementArrays, t: dict) -> list[FlagResult]:
    on_gold = ~np.isnan(data.gold_scores).all(axis=1)
    n, k, accuracy, _ = tally(data, on_gold, data.pick[on_gold] == picks(data.gold_scores[on_gold]))
    # One-sided: this few correct would be unlikely if the accuracy really were the threshold.
    q = _tested(stats.binom.cdf(k, n, t["gold_min_accuracy"]), n >= t["gold_min_count"])
    flagged = (q < t["alpha"]) & (accuracy < t["gold_min_accuracy"])
    return [
        FlagResult(
            int(data.annotator_ids[a]), Kind.GOLD_ACCURACY, float(accuracy[a]), float(q[a]),
            f"Matched the gold answer on {k[a]:.0f} of {n[a]:.0f} gold items ({accuracy[a]:.0%}); "
            f"the project expects at least {t['gold_min_accuracy']:.0%}.",
        )
        for a in np.flatnonzero(flagged)
    ]


def drift(data: JudgementArrays, t: dict, has_majority: np.ndarray, agrees: np.ndarray) -> list[FlagResult]:
    who = data.annotator[has_majority]
    agreed = agrees[has_majority]
    # Rows are in time order; a stable sort by annotator keeps each annotator's own time order.
    order = np.argsort(who, kind="stable")
    who, agreed = who[order], agreed[order]
    n = group_sum(who, 1, data.n_annotators)
    starts = np.concatenate(([0], np.cumsum(n)[:-1])).astype(np.int64)
    windows = t["drift_windows"]
    window = (np.arange(len(who)) - starts[who]) * windows // n[who].astype(np.int64)
    first, last = window == 0, window == windows - 1
    n1, k1 = group_sum(who[first], 1, data.n_annotators), group_sum(who[first], agreed[first], data.n_annotators)
    n2, k2 = group_sum(who[last], 1, data.n_annotators), group_sum(who[last], agreed[last], data.n_annotators)
    with np.errstate(invalid="ignore", divide="ignore"):
        share1, share2 = k1 / n1, k2 / n2
        pooled = (k1 + k2) / (n1 + n2)
        z = (share1 - share2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    q = _tested(stats.norm.sf(np.nan_to_num(z, nan=0.0)), n >= t["min_judgements"])
    flagged = (q < t["alpha"]) & (share1 - share2 >= t["drift_min_drop"])
    return [
        FlagResult(
            int(data.annotator_ids[a]), Kind.DRIFT, float(share1[a] - share2[a]), float(q[a]),
            f"Agreed with the other annotators' majority in {k1[a]:.0f} of their first {n1[a]:.0f} {data.unit} "
            f"({share1[a]:.0%}) but only {k2[a]:.0f} of their last {n2[a]:.0f} ({share2[a]:.0%}).",
        )
        for a in np.flatnonzero(flagged)
    ]


def flags_from_arrays(data: JudgementArrays, thresholds: dict) -> list[FlagResult]:
    if not len(data.annotator):
        return []
    has_majority, agrees = agreement_with_reliable_others(data)
    return [
        *position_bias(data, thresholds),
        *length_bias(data, thresholds),
        *too_fast(data, thresholds),
        *uniform_timing(data, thresholds),
        *straight_lining(data, thresholds),
        *random_choices(data, thresholds, has_majority, agrees),
        *gold_accuracy(data, thresholds),
        *drift(data, thresholds, has_majority, agrees),
    ]


# -- the service --------------------------------------------------------------------------


def compute_flags(project: Project, *, thresholds: dict | None = None) -> list[FlagResult]:
    """Every flag the project's judgements raise now; `thresholds` override the project's own."""
    merged = merged_flag_thresholds({**project.flag_thresholds, **(thresholds or {})})
    return flags_from_arrays(load_judgement_arrays(project), merged)


def refresh_flags(project: Project) -> int:
    """Recompute and store the project's flags: upsert raised ones, deactivate cleared ones.

    Returns how many flags are active afterwards.
    """
    results = compute_flags(project)
    now = timezone.now()
    with transaction.atomic():
        AnnotatorFlag.objects.bulk_create(
            [
                AnnotatorFlag(
                    project=project, annotator_id=r.annotator_id, kind=r.kind, reason=r.reason,
                    statistic=r.statistic, p_value=r.p_value, computed_at=now, is_active=True,
                )
                for r in results
            ],
            update_conflicts=True,
            unique_fields=["project", "annotator", "kind"],
            update_fields=["reason", "statistic", "p_value", "computed_at", "is_active"],
        )
        AnnotatorFlag.objects.filter(project=project, is_active=True).exclude(computed_at=now).update(is_active=False)
    return len(results)
