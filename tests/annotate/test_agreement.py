"""Agreement metrics against published worked examples and the `krippendorff` package."""
from fractions import Fraction

import krippendorff
import numpy as np
import pytest
from scipy.stats import chi2, friedmanchisquare

from annotate import agreement
from annotate.agreement import (
    LEVELS,
    annotator_agreement,
    bootstrap_alpha_ci,
    cohen_kappa,
    fleiss_kappa,
    judgement_values,
    kendall_w,
    krippendorff_alpha,
    krippendorff_alpha_long,
    pairwise_agreement,
)

# Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability". Annenberg School
# for Communication, Departmental Papers 43, section C: 4 observers x 12 units, missing
# values, and the published alphas .743 (nominal), .815 (ordinal), .849 (interval) and
# .797 (ratio). The exact fractions follow from the paper's coincidence matrix
# (n_1..n_5 = 9, 13, 10, 5, 3; n = 40).
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
KRIPPENDORFF_2011_ALPHAS = {
    "nominal": (Fraction(113, 152), 0.743),
    "ordinal": (Fraction(108577, 133160), 0.815),
    "interval": (Fraction(951, 1120), 0.849),
    "ratio": (Fraction(18222619, 22852465), 0.797),
}

# Fleiss, J. L. (1971). "Measuring nominal scale agreement among many raters".
# Psychological Bulletin 76(5): 378-382; the worked example as given on Wikipedia's
# "Fleiss' kappa" page: 10 subjects, 5 categories, 14 raters, P-bar = 0.378,
# P_e = 0.213, kappa = 0.210 (exactly 4211/20059).
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_matches_krippendorff_2011(level):
    exact, published = KRIPPENDORFF_2011_ALPHAS[level]
    alpha = krippendorff_alpha(KRIPPENDORFF_2011, level)
    assert alpha == pytest.approx(float(exact), abs=1e-12)
    assert round(alpha, 3) == published
    matrix = np.array(KRIPPENDORFF_2011, dtype=float)
    assert alpha == pytest.approx(krippendorff.alpha(matrix, level_of_measurement=level), abs=1e-9)


def test_alpha_takes_labels_for_nominal_data():
    labels = [["a" if v == 1 else None if v is None else f"v{v}" for v in row] for row in KRIPPENDORFF_2011]
    assert krippendorff_alpha(labels, "nominal") == pytest.approx(113 / 152, abs=1e-12)
    with pytest.raises(ValueError, match="nominal level"):
        krippendorff_alpha(labels, "ordinal")


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("level", LEVELS)
def test_alpha_equals_the_krippendorff_package_on_random_data(level, seed):
    rng = np.random.default_rng(seed)
    coders, units, n_values = rng.integers(2, 7), rng.integers(5, 60), rng.integers(2, 9)
    truth = rng.integers(0, n_values, size=units)
    data = np.where(rng.random((coders, units)) < 0.6, truth, rng.integers(0, n_values, size=(coders, units)))
    data = (data + rng.integers(1, 4)).astype(float)  # ratio data must not sit at zero only
    data[rng.random(data.shape) < 0.25] = np.nan
    data[:2, 0] = [1.0, 2.0]  # at least one pairable unit that varies
    expected = krippendorff.alpha(data, level_of_measurement=level)
    assert krippendorff_alpha(data, level) == pytest.approx(expected, abs=1e-9)


def test_long_format_gives_the_matrix_result_in_any_row_order():
    matrix = np.array(KRIPPENDORFF_2011, dtype=float)
    coders, units = np.nonzero(~np.isnan(matrix))
    order = np.random.default_rng(3).permutation(len(units))
    alpha = krippendorff_alpha_long(units[order] * 7 + 100, matrix[coders, units][order], "interval")
    assert alpha == pytest.approx(951 / 1120, abs=1e-12)


def test_alpha_without_variation_is_nan_and_without_pairs_an_error():
    assert np.isnan(krippendorff_alpha([[1, 1, 2], [1, 1, None]], "nominal"))
    with pytest.raises(ValueError, match="two or more coders"):
        krippendorff_alpha([[1, None], [None, 2]], "nominal")
    with pytest.raises(ValueError, match="level_of_measurement"):
        krippendorff_alpha(KRIPPENDORFF_2011, "cardinal")
    with pytest.raises(ValueError, match="coders x units"):
        krippendorff_alpha([1, 2, 3], "nominal")


def test_bootstrap_interval_brackets_alpha_and_is_reproducible():
    rng = np.random.default_rng(0)
    truth = rng.integers(1, 6, size=400)
    data = np.where(rng.random((3, 400)) < 0.7, truth, rng.integers(1, 6, size=(3, 400))).astype(float)
    alpha = krippendorff_alpha(data, "interval")
    low, high = bootstrap_alpha_ci(data, "interval", n_boot=500, seed=1)
    assert low < alpha < high
    assert 0.02 < high - low < 0.2
    assert bootstrap_alpha_ci(data, "interval", n_boot=500, seed=1) == (low, high)
    wider = bootstrap_alpha_ci(data, "interval", n_boot=500, confidence=0.99, seed=1)
    assert wider[0] < low and wider[1] > high


def test_bootstrap_interval_matches_a_plain_unit_resampling_loop():
    rng = np.random.default_rng(5)
    data = rng.integers(1, 4, size=(3, 60)).astype(float)
    data[:, :40] = data[0, :40]  # some agreement, so alpha is well away from zero
    plain = []
    draw = np.random.default_rng(9)
    for _ in range(1000):
        alpha = krippendorff.alpha(data[:, draw.integers(0, 60, size=60)], level_of_measurement="ordinal")
        plain.append(alpha)
    low, high = bootstrap_alpha_ci(data, "ordinal", n_boot=2000, seed=2)
    assert low == pytest.approx(np.quantile(plain, 0.025), abs=0.04)
    assert high == pytest.approx(np.quantile(plain, 0.975), abs=0.04)


def test_fleiss_kappa_matches_fleiss_1971_wikipedia_example():
    assert fleiss_kappa(FLEISS_WIKIPEDIA) == pytest.approx(4211 / 20059, abs=1e-12)
    assert round(fleiss_kappa(FLEISS_WIKIPEDIA), 3) == 0.210
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[1, 2], [3, 1]])


def test_cohen_kappa_matches_the_wikipedia_example():
    # Wikipedia, "Cohen's kappa", worked example: 50 proposals; both yes 20, A yes/B no 5,
    # A no/B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)


def test_weighted_cohen_kappa_by_hand():
    # Three ordered categories, observed table [[2, 1, 0], [0, 2, 1], [1, 0, 3]] / 10;
    # row and column shares both .3, .3, .4. Disagreement weights |i - j| (linear) or
    # (i - j)^2 (quadratic): observed .1 + .1 + 2 * .1 = .4 (linear), .1 + .1 + 4 * .1 = .6;
    # expected 2 * (.09 + 2 * .12 + .12) = .9 (linear), 2 * (.09 + 4 * .12 + .12) = 1.38.
    a = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    b = [0, 0, 1, 1, 1, 2, 0, 2, 2, 2]
    assert cohen_kappa(a, b, weights="linear") == pytest.approx(1 - 0.4 / 0.9, abs=1e-12)
    assert cohen_kappa(a, b, weights="quadratic") == pytest.approx(1 - 0.6 / 1.38, abs=1e-12)
    assert cohen_kappa(a, b) == pytest.approx(1 - 0.3 / (1 - 0.34), abs=1e-12)
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa(a, b, weights="cubic")


def test_kendall_w_without_ties_by_hand():
    # 3 raters, 4 items: rank sums 3, 7, 9, 11 around a mean of 7.5, S = 35;
    # W = 12 * 35 / (9 * 60) = 7/9.
    ranks = [[1, 2, 3, 4], [1, 3, 2, 4], [1, 2, 4, 3]]
    assert kendall_w(ranks) == pytest.approx(7 / 9, abs=1e-12)
    assert kendall_w([[1, 2, 3], [1, 2, 3]]) == pytest.approx(1.0)


def test_kendall_w_with_ties_by_hand_and_against_friedman():
    # Raters 1 and 3 tie items 2 and 3 (average rank 2.5): rank sums 3, 7, 8, 12 around
    # 7.5, S = 41; each tie group of 2 adds t^3 - t = 6, so W = 12 * 41 / (9 * 60 - 3 * 12).
    tied = [[1, 2.5, 2.5, 4], [1, 2, 3, 4], [1, 2.5, 2.5, 4]]
    assert kendall_w(tied) == pytest.approx(12 * 41 / (9 * 60 - 3 * 12), abs=1e-12)
    assert kendall_w([[1, 2.5, 2.5, 4]] * 3) == pytest.approx(1.0)
    # Friedman (1937) / Kendall & Babington Smith (1939): chi2_F = m (n - 1) W, both
    # tie-corrected; scipy's friedmanchisquare applies the same correction.
    rng = np.random.default_rng(4)
    scores = rng.integers(1, 5, size=(6, 7)).astype(float)
    chi2 = friedmanchisquare(*scores.T).statistic
    assert kendall_w(scores) == pytest.approx(chi2 / (6 * (7 - 1)), abs=1e-9)


# NAG Library Manual, routine G08DAF (nagf_nonpar_concordance_kendall), example program
# g08dafe, "Example Program Results" (e.g. Mark 27.1, support.nag.com/numeric/nl/nagdoc_27.1/
# examples/baseresults/g08dafe.r.html): 3 comparisons of 10 objects, already ranked with
# average ranks for ties; "Kendall's coefficient = 0.828", "Significance = 0.008" (the
# chi-squared approximation, k (n - 1) W on n - 1 degrees of freedom).
NAG_G08DAF_SCORES = [
    [1.0, 4.5, 2.0, 4.5, 3.0, 7.5, 6.0, 9.0, 7.5, 10.0],
    [2.5, 1.0, 2.5, 4.5, 4.5, 8.0, 9.0, 6.5, 10.0, 6.5],
    [2.0, 1.0, 4.5, 4.5, 4.5, 4.5, 8.0, 8.0, 8.0, 10.0],
]


def test_kendall_w_with_ties_matches_the_nag_g08daf_example():
    w = kendall_w(NAG_G08DAF_SCORES)
    assert round(w, 3) == 0.828
    assert round(chi2.sf(3 * (10 - 1) * w, 10 - 1), 3) == 0.008
    # By hand: rank sums 5.5, 6.5, 9, 13.5, 12, 20, 23, 23.5, 25.5, 26.5 around 16.5, S = 591;
    # tie groups per comparison (2, 2), (2, 2, 2), (4, 3) give sum t^3 - t = 12, 18, 84, so
    # W = 12 * 591 / (3^2 * 990 - 3 * 114) = 197/238.
    assert w == pytest.approx(197 / 238, abs=1e-12)
    # Independently: Friedman's tie-corrected chi-squared (scipy) is k (n - 1) W.
    friedman = friedmanchisquare(*np.array(NAG_G08DAF_SCORES).T).statistic
    assert w == pytest.approx(friedman / (3 * (10 - 1)), abs=1e-9)


def test_pairwise_agreement_of_two_complete_coders_is_alpha():
    rng = np.random.default_rng(7)
    truth = rng.integers(1, 6, size=200)
    data = np.where(rng.random((2, 200)) < 0.6, truth, rng.integers(1, 6, size=(2, 200)))
    coders, units = np.nonzero(np.ones_like(data))
    for level in LEVELS:
        result = pairwise_agreement(coders, units, data[coders, units], level)
        assert result.n_shared.tolist() == [[0, 200], [200, 0]]
        assert result.agreement[0, 1] == pytest.approx(krippendorff.alpha(data, level_of_measurement=level), abs=1e-9)
        assert np.isnan(result.agreement[0, 0])


def _simulated_panel(rng, n_items=600, coders=6, copy_rate=0.7):
    """Coders 0..coders-2 copy a hidden truth with probability copy_rate; the last is random."""
    truth = rng.integers(1, 6, size=n_items)
    data = np.where(rng.random((coders, n_items)) < copy_rate, truth, rng.integers(1, 6, size=(coders, n_items)))
    data[-1] = rng.integers(1, 6, size=n_items)
    coders_of, units = np.nonzero(np.ones_like(data))
    return coders_of, units, data[coders_of, units].astype(float)


@pytest.mark.parametrize("level", LEVELS)
def test_annotator_agreement_separates_honest_from_random(level):
    annotators, units, values = _simulated_panel(np.random.default_rng(11))
    result = annotator_agreement(annotators, units, values, level)
    assert result.annotators.tolist() == list(range(6))
    assert result.n_units.tolist() == [600] * 6
    assert (result.agreement[:-1] > 0.4).all()
    assert abs(result.agreement[-1]) < 0.1


def test_annotator_agreement_nominal_by_hand():
    # Unit 0: a=x, b=x, c=y -> a and b match the others' modes fully... see each case below.
    annotators = ["a", "b", "c", "a", "b", "c"]
    units = [0, 0, 0, 1, 1, 1]
    values = ["x", "x", "y", "x", "y", "y"]
    result = annotator_agreement(annotators, units, values, "nominal")
    # Pooled shares: x 1/2, y 1/2.
    # a: unit 0 others {x, y} tied -> distance 1/2, chance 1/2; unit 1 others {y, y} -> 1, chance 1/2.
    # b: unit 0 others {x, y} -> 1/2, 1/2; unit 1 others {x, y} -> 1/2, 1/2.
    # c: unit 0 others {x, x} -> 1, 1/2; unit 1 others {x, y} -> 1/2, 1/2.
    assert result.agreement.tolist() == pytest.approx([1 - 1.5 / 1.0, 0.0, 1 - 1.5 / 1.0])


def test_units_judged_by_one_annotator_do_not_count():
    result = annotator_agreement([0, 1, 0, 1, 2], [0, 0, 1, 1, 2], [1, 1, 2, 2, 3], "interval")
    assert result.annotators.tolist() == [0, 1]
    assert result.n_units.tolist() == [2, 2]
    assert result.agreement.tolist() == [1.0, 1.0]


def test_judgement_values_map_pairwise_ranking_and_rating():
    pairwise = judgement_values("pairwise", [7, 8, 9], [1, 1, 1], [[1, 2], [2, 1], [1, 1]])
    assert pairwise.values.tolist() == [1, -1, 0]
    assert pairwise.units.tolist() == [1, 1, 1]
    assert pairwise.level_of_measurement == "nominal"

    ranking = judgement_values("ranking", [7, 8], [5, 6], [[1, 2, 3], [2, 1, np.nan]])
    assert ranking.level_of_measurement == "ordinal"
    assert ranking.annotators.tolist() == [7, 7, 7, 8, 8, 8]
    assert ranking.units.tolist() == [0, 1, 2, 3, 4, 5]
    assert ranking.values[:5].tolist() == [1, 2, 3, 2, 1]
    assert np.isnan(ranking.values[5])

    rating = judgement_values("rating", [7, 8], [5, 5], [[4, 2], [5, 1]])
    assert rating.level_of_measurement == "interval"
    assert rating.units.tolist() == [0, 1, 0, 1]
    assert krippendorff_alpha_long(rating.units, rating.values, "interval") == pytest.approx(
        krippendorff.alpha([[4, 2], [5, 1]], level_of_measurement="interval"), abs=1e-12
    )
    with pytest.raises(ValueError, match="task mode"):
        judgement_values("essay", [1], [1], [[1, 2]])


def test_too_many_distinct_values_is_a_clear_error():
    values = np.arange(2 * (agreement.MAX_DISTINCT_VALUES + 1), dtype=float)
    units = np.repeat(np.arange(len(values) // 2), 2)
    with pytest.raises(ValueError, match="bin them"):
        krippendorff_alpha_long(units, values, "interval")


def test_bootstrap_with_many_distinct_values_per_unit():
    # 12 coders with values 0..99: unit patterns are too wide for one integer key each.
    rng = np.random.default_rng(6)
    truth = rng.integers(0, 100, size=30)
    data = (truth + rng.integers(-3, 4, size=(12, 30))).astype(float)
    alpha = krippendorff_alpha(data, "interval")
    low, high = bootstrap_alpha_ci(data, "interval", n_boot=300)
    assert low < high and low - 0.05 < alpha < high + 0.05
