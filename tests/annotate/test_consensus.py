"""Consensus: majority, Bradley-Terry (checked against a direct likelihood fit) and Dawid-Skene."""
import numpy as np
import pytest
from scipy.optimize import minimize

from annotate.consensus import bradley_terry, dawid_skene, pairwise_majority, ranking_comparisons


def test_pairwise_majority_per_item():
    votes = [1, 1, -1, 0, 0, -1, 1, -1, 1]
    items = ["a", "a", "a", "b", "b", "b", "c", "c", "d"]
    result = pairwise_majority(votes, items)
    assert result.items.tolist() == ["a", "b", "c", "d"]
    assert result.outcome.tolist() == [1, -1, 0, 1]
    assert result.margin.tolist() == pytest.approx([1 / 3, -1 / 3, 0, 1])
    assert result.agreement.tolist() == pytest.approx([2 / 3, 1 / 3, 0, 1])
    assert result.n_votes.tolist() == [3, 3, 2, 1]
    assert pairwise_majority([-1, -1, 1]).outcome.tolist() == [-1]
    with pytest.raises(ValueError, match="outcomes"):
        pairwise_majority([2, 1])


def _negative_log_likelihood(scores, comparisons, weights, prior):
    winners, losers = comparisons[:, 0], comparisons[:, 1]
    log_p = -np.logaddexp(0, scores[losers] - scores[winners])
    virtual = prior * (-np.logaddexp(0, -scores) - np.logaddexp(0, scores))
    return -(weights * log_p).sum() - virtual.sum()


@pytest.mark.parametrize("prior", [0.0, 0.5])
def test_bradley_terry_is_the_maximum_likelihood_fit(prior):
    rng = np.random.default_rng(3)
    true_scores = rng.normal(size=6)
    pairs = rng.integers(0, 6, size=(400, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    first_wins = rng.random(len(pairs)) < 1 / (1 + np.exp(true_scores[pairs[:, 1]] - true_scores[pairs[:, 0]]))
    comparisons = np.where(first_wins[:, None], pairs, pairs[:, ::-1])
    weights = rng.choice([0.5, 1.0, 2.0], size=len(comparisons))
    scores = bradley_terry(comparisons, 6, weights=weights, prior=prior)
    direct = minimize(_negative_log_likelihood, np.zeros(6), args=(comparisons, weights, prior), method="BFGS",
                      options={"gtol": 1e-10}).x
    if prior == 0:
        direct -= direct.mean()  # the plain likelihood only fixes differences
    assert scores == pytest.approx(direct, abs=1e-5)
    assert np.corrcoef(scores, true_scores)[0, 1] > 0.9


def test_bradley_terry_two_items_closed_form():
    # 7 wins to 3: p_0 / (p_0 + p_1) = 0.7, so the score gap is log(7/3).
    comparisons = [[0, 1]] * 7 + [[1, 0]] * 3
    scores = bradley_terry(comparisons, 2, prior=0)
    assert scores[0] - scores[1] == pytest.approx(np.log(7 / 3), abs=1e-9)


def test_bradley_terry_keeps_unbeaten_items_finite_and_items_apart():
    # Two prompts' responses in one call: 0 > 1 > 2 (unanimous) and 3 vs 4 tied.
    ranks = [[1, 2, 3], [1, 2, 3], [1, 1, np.nan]]
    responses = [[0, 1, 2], [0, 1, 2], [3, 4, 5]]
    comparisons, weights = ranking_comparisons(ranks, responses)
    assert len(comparisons) == 3 + 3 + 2
    scores = bradley_terry(comparisons, 5, weights=weights)
    assert np.isfinite(scores).all()
    assert scores[0] > scores[1] > scores[2]
    assert scores[3] == pytest.approx(scores[4]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="one win and one loss"):
        bradley_terry(comparisons, 5, weights=weights, prior=0)


def test_ranking_comparisons_orient_winners_and_split_ties():
    comparisons, weights = ranking_comparisons([[2, 1, 2]], [[10, 11, 12]])
    rows = sorted(zip(map(tuple, comparisons.tolist()), weights.tolist()))
    assert rows == [((10, 12), 0.5), ((11, 10), 1.0), ((11, 12), 1.0), ((12, 10), 0.5)]


def _simulated_labels(rng, n_items=400):
    """Three reliable annotators (90% right), two that answer at random; 3 classes."""
    truth = rng.integers(0, 3, size=n_items)
    items, annotators, labels = [], [], []
    for annotator, accuracy in enumerate([0.9, 0.9, 0.9, 0.0, 0.0]):
        right = rng.random(n_items) < accuracy
        items.append(np.arange(n_items))
        annotators.append(np.full(n_items, annotator))
        labels.append(np.where(right, truth, rng.integers(0, 3, size=n_items)))
    return truth, np.concatenate(items), np.concatenate(annotators), np.concatenate(labels)


def test_dawid_skene_outweighs_unreliable_annotators():
    rng = np.random.default_rng(8)
    truth, items, annotators, labels = _simulated_labels(rng)
    result = dawid_skene(items, annotators, labels)
    majority_share = np.array([np.bincount(labels[items == i], minlength=3) for i in range(len(truth))])
    majority = majority_share.argmax(axis=1)
    assert (result.labels == truth).mean() > (majority == truth).mean()
    assert (result.labels == truth).mean() > 0.95
    reliability = np.trace(result.confusion, axis1=1, axis2=2) / 3
    assert reliability[:3].min() > 0.85 and reliability[3:].max() < 0.5
    assert result.posterior.sum(axis=1) == pytest.approx(np.ones(len(truth)))
    assert result.class_prior.sum() == pytest.approx(1.0)


def test_dawid_skene_keeps_label_values_and_handles_unanimity():
    result = dawid_skene(["q1", "q1", "q2", "q2"], ["ann", "bob", "ann", "bob"], [-1, -1, 1, 1])
    assert result.classes.tolist() == [-1, 1]
    assert result.labels.tolist() == [-1, 1]
    assert result.items.tolist() == ["q1", "q2"]
    with pytest.raises(ValueError, match="equally long"):
        dawid_skene([1], [1, 2], [0])
