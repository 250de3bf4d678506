"""Agreement statistics over annotators' judgements (pure numpy/scipy, no Django).

Two input shapes:
- a coders x units matrix (`reliability_data`), missing values as None or nan, the
  convention of Krippendorff (2011) and of the `krippendorff` package on PyPI;
- long format: one row per judgement value, as parallel arrays (annotators, units,
  values). A project's million judgements stay in arrays this way and never become a
  Python list of lists. `judgement_values` maps project data onto it.

Krippendorff's alpha is computed from the coincidence matrix o (values x values):
unit u with m_u >= 2 pairable values adds n_uc * n_uk / (m_u - 1) to o[c, k] (minus the
pairing of a value with itself), so alpha = 1 - (n - 1) * sum(o * d) / (n_v' d n_v), with
n_v the row sums of o and d the level's distance. The ordinal distance of the package,
(sum of n_g for g between c and k - (n_c + n_k) / 2) ** 2, equals the squared difference
of mid-ranks n_<c + n_c / 2, so "ordinal" is "interval" on the pooled mid-rank scale;
annotator_agreement uses that scale for its consensus as well.
"""
from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.stats import rankdata

LEVELS = ("nominal", "ordinal", "interval", "ratio")
# The coincidence matrix is dense values x values; more distinct values than this is
# continuous data that should be binned first.
MAX_DISTINCT_VALUES = 3000
# Rows x values (or boots x patterns) per vectorised block, to bound memory.
_BLOCK_ELEMENTS = 4_000_000


class LongFormat(NamedTuple):
    """Judgement values in long format; `annotator_agreement(*data)` accepts it as is."""

    annotators: np.ndarray
    units: np.ndarray
    values: np.ndarray
    level_of_measurement: str


class AnnotatorAgreement(NamedTuple):
    annotators: np.ndarray  # distinct annotator ids, sorted
    n_units: np.ndarray  # units each annotator shares with at least one other annotator
    agreement: np.ndarray  # 1 = always the others' consensus, 0 = chance, nan = nothing shared


class PairwiseAgreement(NamedTuple):
    annotators: np.ndarray  # distinct annotator ids, sorted; rows and columns follow them
    n_shared: np.ndarray  # units both annotators judged
    agreement: np.ndarray  # 1 - observed / expected disagreement over shared units; nan where none


class _Coded(NamedTuple):
    """Pairable values only (units with at least two values), as codes into `domain`."""

    annotators: np.ndarray
    unit_index: np.ndarray  # 0..n_units-1
    codes: np.ndarray  # 0..len(domain)-1
    domain: np.ndarray  # sorted distinct values (numbers, or labels for nominal data)
    level: str


# --- Krippendorff's alpha --------------------------------------------------------------

def krippendorff_alpha(reliability_data, level_of_measurement="ordinal") -> float:
    """Krippendorff's alpha of a coders x units matrix; nan when no pairable value varies."""
    annotators, units, values = _long_from_matrix(reliability_data)
    return krippendorff_alpha_long(units, values, level_of_measurement)


def krippendorff_alpha_long(units, values, level_of_measurement="ordinal") -> float:
    """Alpha from long format: one (unit, value) per coder's value of that unit."""
    coded = _encode(np.zeros(len(values), dtype=np.int64), units, values, level_of_measurement)
    unit_counts = _unit_value_counts(coded)
    o = _coincidences(unit_counts)
    return float(_alpha_from_coincidences(o[np.newaxis], coded.domain, coded.level)[0])


def bootstrap_alpha_ci(
    reliability_data, level_of_measurement, n_boot=1000, confidence=0.95, seed=0
) -> tuple[float, float]:
    """Percentile interval of alpha over units resampled with replacement (coders x units)."""
    annotators, units, values = _long_from_matrix(reliability_data)
    return bootstrap_alpha_ci_long(units, values, level_of_measurement, n_boot, confidence, seed)


def bootstrap_alpha_ci_long(
    units, values, level_of_measurement="ordinal", n_boot=1000, confidence=0.95, seed=0
) -> tuple[float, float]:
    """`bootstrap_alpha_ci` on long format.

    Resampling N pairable units with replacement is a multinomial draw over the distinct
    unit patterns (multisets of values; a ranking of 4 with overlap 3 has at most 20),
    so each bootstrap coincidence matrix is `draw @ pattern_coincidences`, without
    touching the units again. Samples where no value varies (alpha undefined) are left out.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    coded = _encode(np.zeros(len(values), dtype=np.int64), units, values, level_of_measurement)
    unit_counts = _unit_value_counts(coded)
    patterns, multiplicity = _unit_patterns(unit_counts)
    per_pattern = _per_row_coincidences(patterns)  # sparse patterns x V*V
    n_values = len(coded.domain)
    rng = np.random.default_rng(seed)
    share = multiplicity / multiplicity.sum()
    block = max(1, _BLOCK_ELEMENTS // max(len(share), n_values * n_values))
    alphas = []
    for start in range(0, n_boot, block):
        draws = rng.multinomial(multiplicity.sum(), share, size=min(block, n_boot - start))
        o = (per_pattern.T @ draws.T).T.reshape(-1, n_values, n_values)
        alphas.append(_alpha_from_coincidences(o, coded.domain, coded.level))
    alphas = np.concatenate(alphas)
    alphas = alphas[~np.isnan(alphas)]
    if not len(alphas):
        raise ValueError("alpha is undefined in every bootstrap sample: no unit's values vary")
    tail = (1 - confidence) / 2
    low, high = np.quantile(alphas, [tail, 1 - tail])
    return float(low), float(high)


def _alpha_from_coincidences(o: np.ndarray, domain: np.ndarray, level: str) -> np.ndarray:
    """Alpha for a stack of coincidence matrices (B x V x V); nan where nothing varies."""
    n_v = o.sum(axis=1)
    n = n_v.sum(axis=1)
    d = np.broadcast_to(_distances(level, domain, n_v), o.shape)
    observed = (o * d).sum(axis=(1, 2))
    expected = np.einsum("bi,bij,bj->b", n_v, d, n_v)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1 - (n - 1) * observed / expected, np.nan)


def _distances(level: str, domain: np.ndarray, n_v: np.ndarray) -> np.ndarray:
    """The level's distance between every two domain values (B x V x V, or V x V broadcast)."""
    n_values = len(domain)
    if level == "nominal":
        return 1.0 - np.eye(n_values)
    if level == "ordinal":
        scale = _mid_ranks(n_v)
        return (scale[..., :, np.newaxis] - scale[..., np.newaxis, :]) ** 2
    values = domain.astype(np.float64)
    return _pair_distance(level, values[:, np.newaxis], values[np.newaxis, :])


def _mid_ranks(n_v: np.ndarray) -> np.ndarray:
    """Each value's mid-rank among the pooled pairable values (the ordinal scale)."""
    return np.cumsum(n_v, axis=-1) - n_v / 2


def _pair_distance(level: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise distance on the numeric scale (ordinal: already on mid-ranks)."""
    if level == "ratio":
        total = a + b
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total != 0, ((a - b) / np.where(total != 0, total, 1)) ** 2, 0.0)
    return (a - b) ** 2


# --- coding the data -------------------------------------------------------------------

def _long_from_matrix(reliability_data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(coder, unit, value) of every present value of a coders x units matrix."""
    matrix = _as_values(reliability_data)
    if matrix.dtype.kind == "f":
        present = ~np.isnan(matrix)
    else:
        present = np.vectorize(_is_present, otypes=[bool])(matrix) if matrix.size else np.zeros(matrix.shape, bool)
    if matrix.ndim != 2:
        raise ValueError(f"reliability_data must be coders x units (2-D), got {matrix.ndim} dimension(s)")
    coders, units = np.nonzero(present)
    return coders, units, matrix[coders, units]


def _as_values(values) -> np.ndarray:
    """Numbers as float64 (None becomes nan); anything else as labels."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.asarray(values, dtype=object)


def _is_present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _encode(annotators, units, values, level: str) -> _Coded:
    if level not in LEVELS:
        raise ValueError(f"level_of_measurement must be one of {', '.join(LEVELS)}; got {level!r}")
    annotators, units, values = np.asarray(annotators), np.asarray(units), _as_values(values)
    if not len(annotators) == len(units) == len(values):
        raise ValueError(f"annotators, units and values differ in length: {len(annotators)}, {len(units)}, {len(values)}")
    if values.dtype.kind in "fc":
        keep = ~np.isnan(values)
    elif values.dtype.kind == "O":
        keep = np.fromiter(map(_is_present, values), dtype=bool, count=len(values))
    else:
        keep = np.ones(len(values), dtype=bool)
    annotators, units, values = annotators[keep], units[keep], values[keep]
    if values.dtype.kind not in "iubf" and level != "nominal":
        raise ValueError(f"{level} data must be numbers; labels like {values[:1].tolist()} need the nominal level")
    _, unit_index, unit_sizes = _factorize(units)
    pairable = unit_sizes[unit_index] >= 2
    if not pairable.any():
        raise ValueError("no unit has values from two or more coders, so there is nothing to agree on")
    unit_index = (np.cumsum(unit_sizes >= 2) - 1)[unit_index[pairable]]
    domain, codes, _ = _factorize(values[pairable])
    if len(domain) > MAX_DISTINCT_VALUES:
        raise ValueError(f"{len(domain)} distinct values; bin them to at most {MAX_DISTINCT_VALUES} first")
    return _Coded(annotators[pairable], unit_index, codes, domain, level)


def _factorize(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted distinct keys, each row's index into them, rows per key), like np.unique.

    Integer-valued keys in a compact range (item ids, ranks, ratings) are counted with
    np.bincount in linear time instead of sorted.
    """
    if len(keys) and keys.dtype.kind in "iuf":
        low, high = keys.min(), keys.max()
        compact = high - low < 4 * len(keys) + 1024
        if compact and (keys.dtype.kind != "f" or np.array_equal(keys, np.floor(keys))):
            shifted = (keys - low).astype(np.intp)
            counts = np.bincount(shifted)
            present = counts > 0
            distinct = (np.flatnonzero(present) + low).astype(keys.dtype)
            return distinct, (np.cumsum(present) - 1)[shifted], counts[present]
    return np.unique(keys, return_inverse=True, return_counts=True)


def _unit_value_counts(coded: _Coded) -> sparse.csr_matrix:
    """Units x values: how many coders gave each value to each unit."""
    shape = (int(coded.unit_index.max()) + 1, len(coded.domain))
    ones = np.ones(len(coded.codes))
    counts = sparse.csr_matrix((ones, (coded.unit_index, coded.codes)), shape=shape)
    counts.sum_duplicates()
    return counts


def _coincidences(unit_counts: sparse.csr_matrix) -> np.ndarray:
    pairable = np.asarray(unit_counts.sum(axis=1)).ravel()
    weights = 1.0 / (pairable - 1)
    weighted = sparse.diags(weights) @ unit_counts
    o = (unit_counts.T @ weighted).toarray()
    o[np.diag_indices_from(o)] -= np.asarray(weighted.sum(axis=0)).ravel()
    return o


def _unit_patterns(unit_counts: sparse.csr_matrix) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Distinct rows of the units x values counts and how many units have each."""
    unit_counts = unit_counts.tocsr()
    unit_counts.sort_indices()
    width = int(np.diff(unit_counts.indptr).max())
    # A unit's pattern as a fixed-width row: its (value code, count) pairs, padded with -1.
    keys = np.full((unit_counts.shape[0], 2 * width), -1, dtype=np.int64)
    row = np.repeat(np.arange(unit_counts.shape[0]), np.diff(unit_counts.indptr))
    slot = np.arange(unit_counts.nnz) - unit_counts.indptr[row]
    keys[row, 2 * slot] = unit_counts.indices
    keys[row, 2 * slot + 1] = unit_counts.data
    base = int(keys.max()) + 2
    if base ** keys.shape[1] < 2**62:
        # One integer per row (digits in base `base`) sorts far faster than rows do.
        keys = (keys + 1) @ (base ** np.arange(keys.shape[1], dtype=np.int64))
        _, first, multiplicity = np.unique(keys, return_index=True, return_counts=True)
    else:
        _, first, multiplicity = np.unique(keys, axis=0, return_index=True, return_counts=True)
    return unit_counts[first], multiplicity


def _per_row_coincidences(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """Each row's own coincidence matrix, flattened: rows x (V * V)."""
    counts = counts.tocsr()
    n_values = counts.shape[1]
    per_row = np.diff(counts.indptr)
    n_pairs = per_row**2
    row = np.repeat(np.arange(counts.shape[0]), n_pairs)
    offset = np.arange(n_pairs.sum()) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    first = counts.indptr[row] + offset // per_row[row]
    second = counts.indptr[row] + offset % per_row[row]
    pairable = np.asarray(counts.sum(axis=1)).ravel()
    amount = counts.data[first] * counts.data[second] - np.where(first == second, counts.data[first], 0)
    columns = counts.indices[first] * n_values + counts.indices[second]
    return sparse.csr_matrix(
        (amount / (pairable[row] - 1), (row, columns)), shape=(counts.shape[0], n_values * n_values)
    )


# --- per-annotator and annotator x annotator agreement ----------------------------------

def annotator_agreement(annotators, units, values, level_of_measurement="ordinal") -> AnnotatorAgreement:
    """Each annotator against the leave-one-out consensus of the others on the same units.

    The consensus of the others is their modal value (nominal; tied modes share the
    credit) or their mean on the level's scale (ordinal: pooled mid-ranks). Agreement is
    1 - D_o / D_c, with D_o the annotator's summed distance to the consensus and D_c the
    same for a value drawn at random from the pooled values: 1 is perfect, 0 is what a
    random annotator scores, negative is systematic disagreement.
    """
    coded = _encode(annotators, units, values, level_of_measurement)
    unit_counts = _unit_value_counts(coded)
    pooled = np.asarray(unit_counts.sum(axis=0)).ravel()
    share = pooled / pooled.sum()
    observed = np.empty(len(coded.codes))
    chance = np.empty(len(coded.codes))
    block = max(1, _BLOCK_ELEMENTS // len(coded.domain))
    for start in range(0, len(coded.codes), block):
        rows = slice(start, start + block)
        others = unit_counts[coded.unit_index[rows]].toarray()
        others[np.arange(len(others)), coded.codes[rows]] -= 1
        observed[rows], chance[rows] = _distances_to_consensus(coded, others, coded.codes[rows], pooled, share)
    ids, row_annotator, n_units = _factorize(coded.annotators)
    observed_sum = np.bincount(row_annotator, weights=observed, minlength=len(ids))
    chance_sum = np.bincount(row_annotator, weights=chance, minlength=len(ids))
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(chance_sum > 0, 1 - observed_sum / chance_sum, np.nan)
    return AnnotatorAgreement(ids, n_units, agreement)


def _distances_to_consensus(coded: _Coded, others: np.ndarray, codes: np.ndarray, pooled, share):
    """(annotator's distance, a random pooled value's distance) to the others' consensus."""
    rows = np.arange(len(codes))
    if coded.level == "nominal":
        modes = others == others.max(axis=1, keepdims=True)
        n_modes = modes.sum(axis=1)
        return 1 - modes[rows, codes] / n_modes, 1 - (modes @ share) / n_modes
    scale = _mid_ranks(pooled) if coded.level == "ordinal" else coded.domain.astype(np.float64)
    consensus = (others @ scale) / others.sum(axis=1)
    observed = _pair_distance(coded.level, scale[codes], consensus)
    chance = _pair_distance(coded.level, scale[np.newaxis, :], consensus[:, np.newaxis]) @ share
    return observed, chance


def pairwise_agreement(annotators, units, values, level_of_measurement="ordinal") -> PairwiseAgreement:
    """Annotator x annotator agreement: 1 - (mean distance over shared units) / D_e.

    D_e is alpha's expected disagreement of the pooled values, so a pair of annotators
    agreeing at chance level scores about 0, whatever the level of measurement.
    """
    coded = _encode(annotators, units, values, level_of_measurement)
    pooled = np.bincount(coded.codes, minlength=len(coded.domain)).astype(np.float64)
    d = _distances(coded.level, coded.domain, pooled)
    expected = pooled @ d @ pooled / (pooled.sum() * (pooled.sum() - 1))
    ids, row_annotator, _ = _factorize(coded.annotators)
    first, second = _within_unit_pairs(coded.unit_index)
    a, b = row_annotator[first], row_annotator[second]
    distance = d[coded.codes[first], coded.codes[second]]
    n = len(ids)
    # Each unordered pair counts for both (a, b) and (b, a).
    cells = np.concatenate([a * n + b, b * n + a])
    n_shared = np.bincount(cells, minlength=n * n).reshape(n, n)
    total = np.bincount(cells, weights=np.concatenate([distance, distance]), minlength=n * n).reshape(n, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n_shared > 0, 1 - total / n_shared / expected, np.nan)
    return PairwiseAgreement(ids, n_shared, agreement)


def _within_unit_pairs(unit_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of every unordered pair of rows that share a unit."""
    order = np.argsort(unit_index, kind="stable")
    sorted_units = unit_index[order]
    firsts, seconds = [], []
    for gap in range(1, int(np.bincount(unit_index).max())):
        same = sorted_units[:-gap] == sorted_units[gap:]
        firsts.append(order[:-gap][same])
        seconds.append(order[gap:][same])
    return np.concatenate(firsts), np.concatenate(seconds)


# --- other coefficients ----------------------------------------------------------------

def fleiss_kappa(counts) -> float:
    """Fleiss' kappa of a subjects x categories matrix of rater counts (Fleiss 1971)."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] < 1:
        raise ValueError("counts must be a subjects x categories matrix")
    raters = counts.sum(axis=1)
    if (counts < 0).any() or not np.all(raters == raters[0]) or raters[0] < 2:
        raise ValueError("every subject needs the same number (two or more) of non-negative rater counts")
    n = raters[0]
    per_subject = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    category_share = counts.sum(axis=0) / counts.sum()
    chance = (category_share**2).sum()
    if chance == 1:
        return float("nan")
    return float((per_subject.mean() - chance) / (1 - chance))


def cohen_kappa(labels_a, labels_b, weights=None) -> float:
    """Cohen's kappa of two raters; weights None, "linear" or "quadratic" (Cohen 1968)."""
    labels_a, labels_b = np.asarray(labels_a), np.asarray(labels_b)
    if labels_a.shape != labels_b.shape or labels_a.ndim != 1 or not len(labels_a):
        raise ValueError("labels_a and labels_b must be equally long, non-empty sequences")
    categories, codes = np.unique(np.concatenate([labels_a, labels_b]), return_inverse=True)
    k = len(categories)
    a, b = codes[: len(labels_a)], codes[len(labels_a):]
    observed = np.bincount(a * k + b, minlength=k * k).reshape(k, k) / len(a)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    gap = np.abs(np.arange(k)[:, np.newaxis] - np.arange(k)[np.newaxis, :]).astype(np.float64)
    disagreement = {None: (gap > 0).astype(np.float64), "linear": gap, "quadratic": gap**2}
    if weights not in disagreement:
        raise ValueError(f"weights must be None, 'linear' or 'quadratic'; got {weights!r}")
    w = disagreement[weights]
    expected_disagreement = (w * expected).sum()
    if expected_disagreement == 0:
        return float("nan")
    return float(1 - (w * observed).sum() / expected_disagreement)


def kendall_w(ranks) -> float:
    """Kendall's W of a raters x items matrix, with the tie correction.

    Each rater's row is (re-)ranked with average ranks, so scores work as well as ranks.
    W = 12 S / (m^2 (n^3 - n) - m sum T), T = sum over tie groups of t^3 - t.
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.ndim != 2 or ranks.shape[0] < 2 or ranks.shape[1] < 2 or np.isnan(ranks).any():
        raise ValueError("ranks must be a complete raters x items matrix with at least two of each")
    m, n = ranks.shape
    ranks = rankdata(ranks, axis=1, method="average")
    rank_sums = ranks.sum(axis=0)
    s = ((rank_sums - rank_sums.mean()) ** 2).sum()
    rater = np.repeat(np.arange(m), n)
    _, tie_sizes = np.unique(np.stack([rater, ranks.ravel()], axis=1), axis=0, return_counts=True)
    ties = (tie_sizes**3 - tie_sizes).sum()
    denominator = m**2 * (n**3 - n) - m * ties
    if denominator == 0:
        return float("nan")
    return float(12 * s / denominator)


# --- project data ----------------------------------------------------------------------

def judgement_values(task_mode: str, annotators, items, scores) -> LongFormat:
    """Map judgements onto long format for the agreement functions.

    `scores` is judgements x response positions (ranks, or ratings for `rating`
    projects), nan-padded where an item has fewer responses; it is indexed by canonical
    position. Pairwise: one nominal value per item, the outcome sign(rank_2 - rank_1)
    (1 first better, 0 tie, -1 second better). Ranking: each (item, position) is an
    ordinal unit valued by its rank. Rating: each (item, position) an interval unit.
    """
    scores = np.asarray(scores, dtype=np.float64)
    annotators, items = np.asarray(annotators), np.asarray(items)
    if scores.ndim != 2 or len(scores) != len(annotators) or len(items) != len(annotators):
        raise ValueError("scores must be judgements x positions, one row per annotator and item")
    if task_mode == "pairwise":
        return LongFormat(annotators, items, np.sign(scores[:, 1] - scores[:, 0]), "nominal")
    levels = {"ranking": "ordinal", "rating": "interval"}
    if task_mode not in levels:
        raise ValueError(f"unknown task mode {task_mode!r}")
    _, item_index = np.unique(items, return_inverse=True)
    width = scores.shape[1]
    units = (item_index[:, np.newaxis] * width + np.arange(width)).ravel()
    repeated = np.repeat(annotators, width)
    return LongFormat(repeated, units, scores.ravel(), levels[task_mode])
