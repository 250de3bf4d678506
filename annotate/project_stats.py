"""The numbers on a project's dashboard: progress, alpha with its bootstrap interval,
agreement over time, one row per annotator and who agrees with whom.

The judgements are loaded once (`bias.load_judgement_arrays`) and every number comes from
those arrays through `annotate.agreement`; `dashboard_stats` caches the lot until the next
judgement arrives.
"""
import numpy as np
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Max, Q

from . import agreement
from .bias import JudgementArrays, group_median, load_judgement_arrays, picks
from .models import AnnotatorFlag, Item, Judgement, Membership, Project, TaskMode

TIME_WINDOWS = 8
BOOTSTRAP_RESAMPLES = 1000
MATRIX_ANNOTATORS = 30  # the busiest ones; a bigger matrix is too small to read


def project_progress(project: Project) -> dict:
    counts = Item.objects.filter(project=project).aggregate(
        total=Count("id"), done=Count("id", filter=Q(judgement_count__gte=project.overlap))
    )
    judgements = Judgement.objects.filter(project=project).count()
    wanted = counts["total"] * project.overlap
    return {**counts, "judgements": judgements, "wanted": wanted, "share": judgements / wanted if wanted else 0.0}


def project_alpha(project: Project) -> dict:
    """{alpha, low, high, n_units, level}; alpha and its interval are None until defined."""
    return _alpha(_long_format(load_judgement_arrays(project), project.task_mode))


def annotator_table(project: Project) -> list[dict]:
    """One row per member or judging annotator: judgements, agreement with the others,
    median seconds, gold accuracy, active flags and membership switches."""
    data = load_judgement_arrays(project)
    return _annotator_rows(project, data, _long_format(data, project.task_mode))


def agreement_over_time(project: Project, windows: int = TIME_WINDOWS) -> list[dict]:
    return _agreement_over_time(project, load_judgement_arrays(project), windows)


def dashboard_stats(project: Project) -> dict:
    """Everything the dashboard shows, computed from one load and cached per judgement count."""
    latest = Judgement.objects.filter(project=project).aggregate(n=Count("id"), last=Max("updated_at"))
    flags = AnnotatorFlag.objects.filter(project=project).aggregate(last=Max("computed_at"))
    stamps = [moment.timestamp() if moment else 0 for moment in (latest["last"], flags["last"])]
    key = f"dashboard:{project.pk}:{latest['n']}:{stamps[0]}:{stamps[1]}"
    return cache.get_or_set(key, lambda: _compute_dashboard(project), timeout=3600)


def _compute_dashboard(project: Project) -> dict:
    data = load_judgement_arrays(project)
    long = _long_format(data, project.task_mode)  # alpha, the table and the matrix all read it
    annotators = _annotator_rows(project, data, long)
    return {
        "progress": project_progress(project),
        "alpha": _alpha(long),
        "over_time": _agreement_over_time(project, data, TIME_WINDOWS),
        "annotators": annotators,
        "pairwise": _pairwise_matrix(long, annotators),
    }


def _long_format(data: JudgementArrays, task_mode: str, credit_to=None) -> agreement.LongFormat:
    """The judgements as agreement input; `credit_to` replaces the annotator of each row."""
    # The loader turns ranks into scores where higher is better; agreement wants ranks back.
    values = data.scores if task_mode == TaskMode.RATING else -data.scores
    annotators = data.annotator_ids[data.annotator] if credit_to is None else credit_to
    return agreement.judgement_values(task_mode, annotators, data.item, values)


def _alpha(long: agreement.LongFormat) -> dict:
    result = {"alpha": None, "low": None, "high": None, "n_units": 0, "level": long.level_of_measurement}
    present = ~np.isnan(long.values)
    _, per_unit = np.unique(long.units[present], return_counts=True)
    result["n_units"] = int((per_unit >= 2).sum())
    if not result["n_units"]:
        return result
    alpha = agreement.krippendorff_alpha_long(long.units, long.values, long.level_of_measurement)
    if np.isnan(alpha):
        return result
    low, high = agreement.bootstrap_alpha_ci_long(
        long.units, long.values, long.level_of_measurement, n_boot=BOOTSTRAP_RESAMPLES
    )
    return {**result, "alpha": alpha, "low": low, "high": high}


def _agreement_over_time(project: Project, data: JudgementArrays, windows: int) -> list[dict]:
    """Agreement with the leave-one-out consensus of judgements made in each time window.

    Windows hold equal numbers of judgements (the loader returns them in time order); a
    window is credited with its judgements' agreement against everyone else's consensus.
    """
    count = len(data.item)
    windows = min(windows, count)
    if not windows:
        return []
    window = np.arange(count) * windows // count
    long = _long_format(data, project.task_mode, credit_to=window)
    try:
        scores = agreement.annotator_agreement(*long)
    except ValueError:
        return []
    by_window = dict(zip(scores.annotators.tolist(), scores.agreement.tolist()))
    in_time_order = Judgement.objects.filter(project=project).order_by("created_at", "id").values_list("created_at", flat=True)
    rows = []
    for w in range(windows):
        first, last = np.flatnonzero(window == w)[[0, -1]]
        rows.append({
            "judgements": int(last - first + 1),
            "start": in_time_order[int(first)],
            "end": in_time_order[int(last)],
            "agreement": _finite_or_none(by_window.get(w)),
        })
    return rows


def _annotator_rows(project: Project, data: JudgementArrays, long: agreement.LongFormat) -> list[dict]:
    n = data.n_annotators
    judgements = np.bincount(data.annotator, minlength=n)
    median_seconds = group_median(data.annotator, data.seconds, n) if n else np.array([])
    on_gold = ~np.isnan(data.gold_scores).all(axis=1)
    gold_right = picks(data.scores[on_gold]) == picks(data.gold_scores[on_gold])
    gold_seen = np.bincount(data.annotator[on_gold], minlength=n)
    gold_correct = np.bincount(data.annotator[on_gold], weights=gold_right, minlength=n)
    agreement_of = _agreement_by_user(long)
    index_of = {int(user_id): i for i, user_id in enumerate(data.annotator_ids)}

    flags_of: dict[int, list] = {}
    for flag in AnnotatorFlag.objects.filter(project=project, is_active=True).order_by("kind"):
        flags_of.setdefault(flag.annotator_id, []).append(flag)
    memberships = {m.user_id: m for m in Membership.objects.filter(project=project).select_related("user")}
    users = {m.user_id: m.user for m in memberships.values()}
    # Former members keep their judgements and their row.
    users.update({user.pk: user for user in get_user_model().objects.filter(pk__in=set(index_of) - set(users))})

    rows = []
    for user_id, user in users.items():
        i = index_of.get(user_id)
        membership = memberships.get(user_id)
        rows.append({
            "user_id": user_id,
            "username": user.get_username(),
            "judgements": int(judgements[i]) if i is not None else 0,
            "agreement": agreement_of.get(user_id),
            "median_seconds": _finite_or_none(median_seconds[i]) if i is not None else None,
            "gold_judgements": int(gold_seen[i]) if i is not None else 0,
            "gold_accuracy": float(gold_correct[i] / gold_seen[i]) if i is not None and gold_seen[i] else None,
            "flags": flags_of.get(user_id, []),
            "is_member": membership is not None,
            "is_suspended": bool(membership and membership.is_suspended),
            "exclude_from_exports": bool(membership and membership.exclude_from_exports),
        })
    rows.sort(key=lambda row: (-len(row["flags"]), -row["judgements"], row["username"]))
    return rows


def _pairwise_matrix(long: agreement.LongFormat, rows: list[dict]) -> dict:
    """{"usernames", "agreement"}: annotator x annotator agreement of the busiest annotators
    (None where two never judged the same item)."""
    busiest = [row for row in sorted(rows, key=lambda row: -row["judgements"]) if row["judgements"]][:MATRIX_ANNOTATORS]
    try:
        matrix = agreement.pairwise_agreement(*long)
    except ValueError:
        return {"usernames": [], "agreement": []}
    index_of = {int(user): i for i, user in enumerate(matrix.annotators)}
    shown = [row for row in busiest if row["user_id"] in index_of]
    order = [index_of[row["user_id"]] for row in shown]
    return {
        "usernames": [row["username"] for row in shown],
        "agreement": [[_finite_or_none(matrix.agreement[i, j]) for j in order] for i in order],
    }


def _agreement_by_user(long: agreement.LongFormat) -> dict[int, float | None]:
    try:
        scores = agreement.annotator_agreement(*long)
    except ValueError:
        return {}
    return {int(user): _finite_or_none(value) for user, value in zip(scores.annotators, scores.agreement)}


def _finite_or_none(value) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
