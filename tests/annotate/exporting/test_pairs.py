from collections import Counter

import pytest

from annotate.exporting.options import ExportOptions
from annotate.exporting.pairs import (
    best_position,
    consensus,
    consensus_best,
    judgement_votes,
    pair_selections,
    sft_selections,
)


def votes(ranks=None, ratings=None, strength=None, span=4.0, gap=1.0):
    return judgement_votes(ranks, ratings, strength, rating_span=span, rating_gap=gap)


def select(judgements, span=4.0, **options):
    counts = Counter()
    rows = pair_selections([(0, *j) for j in judgements], ExportOptions(**options), rating_span=span, counts=counts)
    return rows, counts


def test_a_ranking_of_four_gives_six_pairs_with_rank_gap_margins():
    assert votes(ranks=[2, 1, 4, 3]) == [
        (0, 1, -1, 1 / 3), (0, 2, 1, 2 / 3), (0, 3, 1, 1 / 3), (1, 2, 1, 1.0), (1, 3, 1, 2 / 3), (2, 3, -1, 1 / 3),
    ]


@pytest.mark.parametrize(("strength", "margin"), [(None, 1.0), (1, 1 / 3), (2, 2 / 3), (3, 1.0)])
def test_pairwise_strength_maps_into_the_margin(strength, margin):
    assert votes(ranks=[2, 1], strength=strength) == [(0, 1, -1, margin)]


def test_equal_ranks_are_a_tie():
    assert votes(ranks=[1, 1]) == [(0, 1, 0, 0.0)]


def test_ratings_closer_than_the_gap_are_a_tie_and_margins_scale_by_the_span():
    assert votes(ratings=[5, 4, 1], gap=2) == [(0, 1, 0, 0.0), (0, 2, 1, 1.0), (1, 2, 1, 0.75)]


def test_per_annotator_rows_keep_each_judgements_pairs_and_drop_ties_by_default():
    rows, counts = select([([1, 2], None, None), ([1, 1], None, None), ([2, 1], None, 3)])
    assert rows == [(0, 1, 1.0, None), (1, 0, 1.0, None)]
    assert counts["ties_dropped"] == 1


def test_kept_ties_have_margin_zero_in_canonical_order():
    rows, _ = select([([1, 1], None, None)], ties="keep")
    assert rows == [(0, 1, 0.0, None)]


def test_rating_pairs_need_the_gap():
    rows, counts = select([(None, [5, 4, 1], None)], rating_gap=2)
    assert [(chosen, rejected) for chosen, rejected, _, _ in rows] == [(0, 2), (1, 2)]
    assert counts["ties_dropped"] == 1


def test_consensus_gives_one_row_per_pair_with_agreement_and_mean_signed_margin():
    # Two say 0 > 1 (strength 3 and 1), one says 1 > 0 (strength 2).
    rows, _ = select([([1, 2], None, 3), ([1, 2], None, 1), ([2, 1], None, 2)], mode="consensus")
    assert rows == [(0, 1, pytest.approx((1 + 1 / 3 - 2 / 3) / 3), pytest.approx(2 / 3))]


def test_an_even_consensus_split_is_a_tie():
    assert consensus([[(0, 1, 1, 1.0)], [(0, 1, -1, 1.0)]]) == {(0, 1): (0, 0.0, 0.0)}
    rows, counts = select([([1, 2], None, None), ([2, 1], None, None)], mode="consensus")
    assert rows == [] and counts["ties_dropped"] == 1


def test_min_agreement_filters_consensus_and_per_annotator_rows():
    split_vote = [([1, 2], None, None), ([1, 2], None, None), ([2, 1], None, None)]
    assert select(split_vote, mode="consensus", min_agreement=0.7)[0] == []
    rows, counts = select(split_vote, min_agreement=0.7)
    assert rows == [] and counts["below_agreement"] == 3
    rows, _ = select(split_vote, min_agreement=0.6, include_agreement=True)
    assert [agreement for _, _, _, agreement in rows] == [pytest.approx(2 / 3)] * 3


def test_the_best_response_of_a_judgement_is_unique_or_none():
    assert best_position([2, 1, 3], None) == 1
    assert best_position(None, [3, 5, 5]) is None
    assert best_position(None, [3, 5, 4]) == 1


def test_the_consensus_best_is_the_most_frequent_unique_best():
    assert consensus_best([1, 1, 0]) == (1, pytest.approx(2 / 3))
    assert consensus_best([1, 0, None]) == (None, pytest.approx(1 / 3))


def test_sft_rows_per_annotator_and_by_consensus():
    judgements = [(0, [1, 2, 3], None, None), (0, [2, 1, 3], None, None), (0, [1, 2, 3], None, None), (0, [1, 1, 3], None, None)]
    counts = Counter()
    per_annotator = sft_selections(judgements, ExportOptions(kind="sft"), counts=counts)
    assert per_annotator == [(0, 0.5), (1, 0.25), (0, 0.5)]
    assert counts["best_tied"] == 1
    by_consensus = sft_selections(judgements, ExportOptions(kind="sft", mode="consensus", min_agreement=0.5), counts=counts)
    assert by_consensus == [(0, 0.5)]
