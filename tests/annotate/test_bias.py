"""Each flag statistic on arrays built by hand or by simulated annotators, then the Django side:
loading a project's judgements, thresholds, and storing flags."""
import numpy as np
import pytest
from django.core.exceptions import ValidationError
from scipy import stats

from annotate import bias
from annotate.bias import JudgementArrays, flags_from_arrays
from annotate.flag_thresholds import DEFAULT_FLAG_THRESHOLDS, flag_threshold_errors, merged_flag_thresholds
from annotate.models import AnnotatorFlag, Judgement, TaskMode
from tests.annotate.simulated_annotators import (
    FAST, LENGTH, POSITION, RANDOM, SimulatedAnnotator, pool, ranks_for, simulate_arrays,
)
from tests.factories import ItemFactory, ProjectFactory, annotators_of, judgement_of

DEFAULTS = merged_flag_thresholds()


def arrays(rows, lengths=None, gold=None, unit="pairs") -> JudgementArrays:
    """rows: (annotator, item, ranks, shown_order, seconds); lengths/gold: per item (dicts)."""
    annotator, item, ranks, shown, seconds = (np.array(column) for column in zip(*rows))
    width = ranks.shape[1]
    lengths = lengths or {}
    gold = gold or {}
    return JudgementArrays(
        annotator_ids=np.unique(annotator) + 100,
        annotator=annotator,
        item=item,
        scores=-ranks.astype(float),
        shown_order=shown,
        lengths=np.array([lengths.get(i, [500] * width) for i in item], dtype=float),
        seconds=seconds.astype(float),
        gold_scores=np.array([[-r for r in gold[i]] if i in gold else [np.nan] * width for i in item]),
        unit=unit,
    )


def pair_rows(annotator, n, first_picks, *, first_item=0, seconds=30.0):
    """`n` pairs on fresh items, shown order alternating, the first-shown response picked `first_picks` times."""
    rows = []
    for j in range(n):
        shown = [0, 1] if j % 2 == 0 else [1, 0]
        pick = shown[0] if j < first_picks else shown[1]
        rows.append((annotator, first_item + j, ranks_for(pick, 2), shown, seconds))
    return rows


def flagged(results, kind):
    return sorted(r.annotator_id for r in results if r.kind == kind)


# -- helpers ---------------------------------------------------------------------------------


def test_binomial_two_sided_equals_scipy_for_a_fair_coin():
    k, n = np.array([41, 25, 3, 50]), np.array([50, 50, 20, 50])
    expected = [stats.binomtest(int(a), int(b), 0.5).pvalue for a, b in zip(k, n)]
    np.testing.assert_allclose(bias.binomial_two_sided(k, n, np.full(4, 0.5)), expected, rtol=1e-12)


def test_binomial_two_sided_doubles_the_smaller_tail():
    greater = stats.binomtest(20, 50, 0.25, alternative="greater").pvalue
    assert bias.binomial_two_sided(np.array([20]), np.array([50]), np.array([0.25]))[0] == pytest.approx(2 * greater)


def test_benjamini_hochberg_by_hand_and_untested_left_out():
    q = bias.benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.005, np.nan]))
    np.testing.assert_allclose(q[:4], [0.02, 0.04, 0.04, 0.02])
    assert np.isnan(q[4])


def test_group_median_matches_numpy_per_group():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 5, size=200)
    values = rng.normal(size=200)
    medians = bias.group_median(groups, values, 6)
    np.testing.assert_allclose(medians[:5], [np.median(values[groups == g]) for g in range(5)])
    assert np.isnan(medians[5])


def test_picks_are_the_unique_best_and_none_on_a_tie_at_the_top():
    scores = -np.array([[1, 2, np.nan], [2, 1, np.nan], [1, 1, np.nan], [3, 1, 2]], dtype=float)
    assert bias.picks(scores).tolist() == [0, 1, bias.NO_PICK, 1]


def test_agreement_with_others_leaves_the_judgement_itself_out():
    # item 0: picks 0, 0, 1; item 1: picks 0 and a tie; item 2: one judgement only.
    item = np.array([0, 0, 0, 1, 1, 2])
    pick = np.array([0, 0, 1, 0, bias.NO_PICK, 1])
    has_majority, agrees = bias.agreement_with_others(item, pick, width=2)
    # The third judgement's others both picked 0, so it disagrees; the first two see a 1-1 split.
    assert has_majority.tolist() == [False, False, True, True, True, False]
    assert agrees.tolist() == [False, False, False, False, False, False]


# -- position bias ------------------------------------------------------------------------------


def test_position_bias_reason_counts_and_bh_adjusted_p():
    rows = pair_rows(0, 50, 41)
    for annotator in range(1, 20):
        rows += pair_rows(annotator, 50, 25, first_item=annotator * 100)
    results = bias.position_bias(arrays(rows), DEFAULTS)
    assert len(results) == 1
    flag = results[0]
    assert flag.annotator_id == 100
    assert flag.reason == "Picked the first-shown response in 41 of 50 pairs (82%); chance is 50%."
    assert flag.statistic == pytest.approx(0.82)
    # The other 19 have p = 1, so BH multiplies the smallest p by the number tested.
    assert flag.p_value == pytest.approx(20 * stats.binomtest(41, 50, 0.5).pvalue)


def test_position_bias_towards_the_second_slot_says_only():
    results = bias.position_bias(arrays(pair_rows(0, 50, 8) + pair_rows(1, 50, 26, first_item=100)), DEFAULTS)
    assert [r.reason for r in results] == ["Picked the first-shown response in only 8 of 50 pairs (16%); chance is 50%."]


def test_position_bias_needs_min_judgements():
    results = bias.position_bias(arrays(pair_rows(0, 19, 19)), DEFAULTS)
    assert results == []
    assert bias.position_bias(arrays(pair_rows(0, 19, 19)), {**DEFAULTS, "min_judgements": 10}) != []


def test_position_bias_in_rankings_of_four_against_one_in_four():
    rng = np.random.default_rng(1)
    annotators = pool(rng, honest=12, planted_each=0) + [SimulatedAnnotator(POSITION, 0.85)]
    data = simulate_arrays(rng, annotators, judgements_each=60, overlap=4, n_responses=4)
    results = bias.position_bias(data, DEFAULTS)
    assert flagged(results, "position_bias") == [12]
    assert results[0].reason.endswith("rankings ({:.0%}); chance is 25%.".format(results[0].statistic))


# -- the other statistics, each catching exactly its planted annotator in an honest pool -----------


@pytest.mark.parametrize(
    ("planted", "kind"),
    [(POSITION, "position_bias"), (LENGTH, "length_bias"), (FAST, "too_fast"), (RANDOM, "random")],
)
def test_each_statistic_flags_only_its_planted_annotator(planted, kind):
    rng = np.random.default_rng(7)
    annotators = pool(rng, honest=15, planted_each=0) + [SimulatedAnnotator(planted, 0.85)] * 2
    data = simulate_arrays(rng, annotators, judgements_each=80, overlap=4)
    assert flagged(flags_from_arrays(data, DEFAULTS), kind) == [15, 16]


def test_length_bias_compares_with_the_other_annotators():
    rng = np.random.default_rng(3)
    annotators = pool(rng, honest=10, planted_each=0) + [SimulatedAnnotator(LENGTH, 0.85)]
    [flag] = bias.length_bias(simulate_arrays(rng, annotators, judgements_each=60, overlap=3), DEFAULTS)
    assert flag.annotator_id == 10
    assert "Picked the longest response in" in flag.reason and "the other annotators did so in" in flag.reason
    assert flag.statistic > DEFAULTS["length_min_effect"]


def test_too_fast_reason_uses_reading_speed():
    lengths = {item: [300, 200] for item in range(30)}  # 500 characters: 10 s at 50 a second
    rows = [(0, item, [1, 2], [0, 1], 3.0) for item in range(30)]
    [flag] = bias.too_fast(arrays(rows, lengths=lengths), DEFAULTS)
    assert flag.reason == (
        "Took a median 3.0 s per judgement where reading the responses takes at least 10.0 s "
        "(at 50 characters a second); 30 of 30 pairs were faster than that."
    )
    slower = [(0, item, [1, 2], [0, 1], 12.0) for item in range(30)]
    assert bias.too_fast(arrays(slower, lengths=lengths), DEFAULTS) == []


def test_uniform_timing_flags_machine_like_times_only():
    steady = [(0, j, [1, 2], [0, 1], 4.0 + 0.1 * (-1) ** j) for j in range(30)]
    human = [(1, 100 + j, [1, 2], [0, 1], 4.0 + 3 * (j % 5)) for j in range(30)]
    [flag] = bias.uniform_timing(arrays(steady + human), DEFAULTS)
    assert flag.annotator_id == 100
    assert flag.reason.startswith("Spent 4.0 s on every judgement give or take 0.1 s over 30 pairs")


def test_straight_lining_always_tie_and_always_the_same_ratings():
    ties = [(0, j, [1, 1], [0, 1] if j % 2 else [1, 0], 20.0) for j in range(30)]
    varied = pair_rows(1, 30, 15, first_item=100)
    [flag] = bias.straight_lining(arrays(ties + varied), DEFAULTS)
    assert flag.reason == "Gave the same answer (tie) in 30 of 30 pairs (100%)."

    # arrays() negates ranks into scores, so ranks of -3 stand for ratings of 3.
    ratings = arrays([(0, j, [-3, -3, -3], [2, 0, 1], 20.0) for j in range(25)], unit="ratings")
    [flag] = bias.straight_lining(ratings, DEFAULTS)
    assert flag.reason == "Gave the same answer (ratings 3, 3, 3 in the order shown) in 25 of 25 ratings (100%)."


def test_straight_lining_names_the_slot_pattern_of_a_ranking():
    rows = [(0, j, [2, 3, 1], [2, 0, 1], 20.0) for j in range(24)] + [(0, 99, [3, 2, 1], [0, 1, 2], 20.0)]
    [flag] = bias.straight_lining(arrays(rows, unit="rankings"), DEFAULTS)
    assert flag.reason == "Gave the same answer (ranks 1, 2, 3 in the order shown) in 24 of 25 rankings (96%)."


def test_gold_accuracy_needs_a_significant_shortfall_and_enough_gold():
    gold = {item: [1, 2] for item in range(40)}
    poor = [(0, j, [1, 2] if j < 3 else [2, 1], [0, 1], 20.0) for j in range(12)]
    good = [(1, j, [1, 2] if j < 10 else [2, 1], [0, 1], 20.0) for j in range(12)]
    too_few = [(2, j, [2, 1], [0, 1], 20.0) for j in range(9)]
    [flag] = bias.gold_accuracy(arrays(poor + good + too_few, gold=gold), DEFAULTS)
    assert flag.annotator_id == 100
    assert flag.reason == "Matched the gold answer on 3 of 12 gold items (25%); the project expects at least 70%."


def test_drift_catches_agreement_falling_over_time():
    rng = np.random.default_rng(5)
    annotators = pool(rng, honest=12, planted_each=0)
    data = simulate_arrays(rng, annotators, judgements_each=200, overlap=4)
    # Annotator 0 turns random halfway through their judgements (rows are in time order).
    mine = np.flatnonzero(data.annotator == 0)
    later = mine[len(mine) // 2:]
    data.scores[later] = -np.array([ranks_for(int(p), 2) for p in rng.integers(2, size=len(later))], dtype=float)
    results = bias.drift(data, DEFAULTS, *bias.agreement_with_others(data.item, bias.picks(data.scores), 2))
    assert flagged(results, "drift") == [0]
    assert "of their first" in results[0].reason and "but only" in results[0].reason


def test_honest_pool_raises_no_flags():
    rng = np.random.default_rng(11)
    data = simulate_arrays(rng, pool(rng, honest=20, planted_each=0), judgements_each=80, overlap=4)
    assert flags_from_arrays(data, DEFAULTS) == []


# -- thresholds --------------------------------------------------------------------------------


def test_threshold_errors_name_every_bad_key():
    errors = flag_threshold_errors({"alpah": 0.05, "alpha": 2, "min_judgements": 3.5, "reading_chars_per_second": "fast"})
    assert len(errors) == 4
    assert any("'alpah' is not a flag threshold" in e for e in errors)
    assert any("alpha must lie between 0 and 1" in e for e in errors)
    assert any("min_judgements must be a whole number" in e for e in errors)
    assert any("reading_chars_per_second must be a number" in e for e in errors)
    assert flag_threshold_errors([1]) == ['Flag thresholds must be a JSON object such as {"alpha": 0.05}.']


def test_overrides_merge_over_defaults():
    merged = merged_flag_thresholds({"alpha": 0.05})
    assert merged == {**DEFAULT_FLAG_THRESHOLDS, "alpha": 0.05}
    with pytest.raises(ValidationError):
        merged_flag_thresholds({"nope": 1})


@pytest.mark.django_db
def test_project_validates_its_flag_thresholds():
    project = ProjectFactory(flag_thresholds={"alpha": 1.5})
    with pytest.raises(ValidationError) as error:
        project.full_clean()
    assert "flag_thresholds" in error.value.message_dict


# -- the Django side --------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_judgement_arrays_reads_ranks_order_lengths_and_gold():
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    alice, bob = annotators_of(project, 2)
    plain = ItemFactory(project=project, n_responses=3)
    gold = ItemFactory(project=project, n_responses=2, is_gold=True, gold_answer=[2, 1])
    judgement_of(plain, bob, ranks=[2, 1, 3], shown_order=[1, 2, 0], seconds=7.5)
    judgement_of(gold, alice, ranks=[1, 2], shown_order=[1, 0])

    data = bias.load_judgement_arrays(project)

    assert data.annotator_ids.tolist() == sorted([alice.pk, bob.pk])
    assert data.annotator_ids[data.annotator].tolist() == [bob.pk, alice.pk]  # time order
    np.testing.assert_array_equal(data.scores, [[-2, -1, -3], [-1, -2, np.nan]])
    assert data.shown_order.tolist() == [[1, 2, 0], [1, 0, -1]]
    expected_lengths = [[len(r.text) for r in plain.responses.all()], [len(r.text) for r in gold.responses.all()] + [np.nan]]
    np.testing.assert_array_equal(data.lengths, expected_lengths)
    np.testing.assert_array_equal(data.gold_scores, [[np.nan] * 3, [-2, -1, np.nan]])
    assert data.seconds.tolist() == [7.5, 20.0]
    assert data.unit == "rankings"


@pytest.mark.django_db
def test_load_judgement_arrays_uses_ratings_for_rating_projects():
    project = ProjectFactory(task_mode=TaskMode.RATING)
    [carol] = annotators_of(project, 1)
    item = ItemFactory(project=project, n_responses=2)
    judgement_of(item, carol, ratings=[4, 2], shown_order=[0, 1])
    data = bias.load_judgement_arrays(project)
    assert data.scores.tolist() == [[4.0, 2.0]]
    assert data.unit == "ratings"



def plainly_loaded(project) -> JudgementArrays:
    """The arrays read the obvious way, from model instances: JSON as Django decodes it, len(text)
    for lengths; the reference the fast loader must equal."""
    use_ratings = project.task_mode == TaskMode.RATING
    judgements = list(Judgement.objects.filter(project=project).order_by("created_at", "id").select_related("item"))
    width = max(len(j.ratings if use_ratings else j.ranks) for j in judgements)
    sign = 1 if use_ratings else -1
    annotator_ids = sorted({j.annotator_id for j in judgements})
    item_ids = sorted({j.item_id for j in judgements})

    def padded(values, fill=np.nan):
        return [fill if v is None else v for v in values] + [fill] * (width - len(values))

    return JudgementArrays(
        annotator_ids=np.array(annotator_ids),
        annotator=np.array([annotator_ids.index(j.annotator_id) for j in judgements]),
        item=np.array([item_ids.index(j.item_id) for j in judgements]),
        scores=np.array([padded([sign * v for v in (j.ratings if use_ratings else j.ranks)]) for j in judgements]),
        shown_order=np.array([padded(j.shown_order, -1) for j in judgements]),
        lengths=np.array([padded([len(r.text) for r in j.item.responses.order_by("position")]) for j in judgements]),
        seconds=np.array([j.seconds_spent for j in judgements]),
        gold_scores=np.array([padded([sign * v for v in j.item.gold_answer] if j.item.is_gold else []) for j in judgements]),
        unit=bias.UNITS[project.task_mode],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("task_mode", [TaskMode.RANKING, TaskMode.RATING])
def test_load_judgement_arrays_equals_a_plain_reading_of_the_rows(task_mode):
    rng = np.random.default_rng(5)
    project = ProjectFactory(task_mode=task_mode, allow_ties=True)
    other = ProjectFactory(task_mode=task_mode)  # its rows must not leak in
    people = annotators_of(project, 4)
    for number in range(12):
        width = 2 + number % 3
        gold = [int(v) for v in rng.integers(1, 5, size=width)] if number % 4 == 0 else None
        item = ItemFactory(project=project, n_responses=width, is_gold=gold is not None, gold_answer=gold)
        for position, text in enumerate(["naïve ☕ " * int(n) for n in rng.integers(0, 40, size=width)]):
            item.responses.filter(position=position).update(text=text)
        for annotator in people[: 2 + number % 3]:
            values = [int(v) for v in rng.integers(1, 5, size=width)]
            answer = {"ratings": values} if task_mode == TaskMode.RATING else {"ranks": values}
            judgement_of(item, annotator, shown_order=[int(p) for p in rng.permutation(width)],
                         seconds=float(rng.uniform(1, 90)), **answer)
    judgement_of(ItemFactory(project=other), annotators_of(other, 1)[0], ranks=[1, 2], ratings=[1, 2])

    loaded, expected = bias.load_judgement_arrays(project), plainly_loaded(project)

    for field in ("annotator_ids", "annotator", "item", "scores", "shown_order", "lengths", "seconds", "gold_scores"):
        np.testing.assert_array_equal(getattr(loaded, field), getattr(expected, field), err_msg=field)
    assert loaded.unit == expected.unit
    thresholds = {**DEFAULTS, "min_judgements": 3, "gold_min_count": 2}
    assert flags_from_arrays(loaded, thresholds) == flags_from_arrays(expected, thresholds)

@pytest.mark.django_db
def test_empty_project_has_no_flags():
    assert bias.compute_flags(ProjectFactory()) == []


@pytest.mark.django_db
def test_refresh_flags_upserts_and_deactivates_cleared_flags():
    thresholds = {"min_judgements": 10, "reading_chars_per_second": 5}  # the factory's responses are short
    project = ProjectFactory(flag_thresholds=thresholds)
    biased, steady = annotators_of(project, 2)
    items = [ItemFactory(project=project) for _ in range(12)]
    for number, item in enumerate(items):
        judgement_of(item, biased, ranks=[1, 2], shown_order=[0, 1], seconds=1.0)  # always the first shown, always 1 s
        judgement_of(item, steady, ranks=[1, 2], shown_order=[number % 2, 1 - number % 2], seconds=60.0 + number * 9)

    assert bias.refresh_flags(project) == 4
    active = {(f.annotator_id, f.kind) for f in AnnotatorFlag.objects.filter(project=project, is_active=True)}
    assert active == {(biased.pk, kind) for kind in ("position_bias", "straight_lining", "too_fast", "uniform_timing")}

    project.flag_thresholds = {**thresholds, "position_min_effect": 0.45, "straight_lining_share": 0.99}
    project.save()
    Judgement.objects.filter(annotator=biased, item=items[0]).update(ranks=[2, 1], seconds_spent=3.0)
    assert bias.refresh_flags(project) == 1
    rows = {f.kind: f for f in AnnotatorFlag.objects.filter(project=project)}
    assert set(rows) == {"position_bias", "straight_lining", "too_fast", "uniform_timing"}  # cleared rows stay
    assert [kind for kind, row in rows.items() if row.is_active] == ["too_fast"]
    assert rows["too_fast"].reason.startswith("Took a median 1.0 s per judgement")


@pytest.mark.django_db
def test_compute_flags_thresholds_override_the_projects():
    project = ProjectFactory()
    [annotator] = annotators_of(project, 1)
    for item in [ItemFactory(project=project) for _ in range(5)]:
        judgement_of(item, annotator, ranks=[1, 2], shown_order=[0, 1], seconds=0.5)
    assert bias.compute_flags(project) == []
    kinds = {r.kind for r in bias.compute_flags(project, thresholds={"min_judgements": 5, "alpha": 0.05})}
    assert kinds == {"too_fast", "uniform_timing", "straight_lining"}
    with pytest.raises(ValidationError):
        bias.compute_flags(project, thresholds={"min_judgements": "many"})
