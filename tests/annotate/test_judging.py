import pytest

from annotate.judging import Verdict, judgement_errors
from annotate.models import Project, TaskMode

PAIRWISE = Project(task_mode=TaskMode.PAIRWISE, allow_ties=True)
PAIRWISE_NO_TIES = Project(task_mode=TaskMode.PAIRWISE, allow_ties=False)
RANKING = Project(task_mode=TaskMode.RANKING, allow_ties=True)
RANKING_NO_TIES = Project(task_mode=TaskMode.RANKING, allow_ties=False)
RATING = Project(task_mode=TaskMode.RATING, rating_min=1, rating_max=5)


@pytest.mark.parametrize(
    "project, n, verdict",
    [
        (PAIRWISE, 2, Verdict(ranks=[1, 2])),
        (PAIRWISE, 2, Verdict(ranks=[2, 1], strength=3)),
        (PAIRWISE, 2, Verdict(ranks=[1, 1])),
        (PAIRWISE_NO_TIES, 2, Verdict(ranks=[2, 1], strength=1)),
        (RANKING, 4, Verdict(ranks=[3, 1, 4, 2])),
        (RANKING, 4, Verdict(ranks=[1, 1, 2, 3])),
        (RANKING, 4, Verdict(ranks=[1, 1, 3, 4])),
        (RANKING, 4, Verdict(ranks=[2, 1, 2, 2])),
        (RANKING, 4, Verdict(ranks=[1, 1, 1, 1])),
        (RANKING_NO_TIES, 3, Verdict(ranks=[2, 3, 1])),
        (RATING, 3, Verdict(ratings=[1, 5, 3])),
        (RATING, 2, Verdict(ratings=[4, 4])),
    ],
)
def test_well_formed_judgements_pass(project, n, verdict):
    assert judgement_errors(project, n, verdict, seconds_spent=12.5) == []


@pytest.mark.parametrize(
    "project, n, verdict, says",
    [
        (PAIRWISE, 2, Verdict(), "rank for every response"),
        (PAIRWISE, 2, Verdict(ranks=[1]), "2 expected, 1 given"),
        (PAIRWISE, 2, Verdict(ranks=[1, 2, 3]), "2 expected, 3 given"),
        (PAIRWISE, 2, Verdict(ranks=[0, 1]), "each of 1 to 2 once"),
        (PAIRWISE, 2, Verdict(ranks=[2, 2]), "not a ranking with ties"),
        (PAIRWISE, 2, Verdict(ranks=["1", "2"]), "whole numbers"),
        (PAIRWISE, 2, Verdict(ranks=[1.0, 2.0]), "whole numbers"),
        (PAIRWISE, 2, Verdict(ranks=[True, 2]), "whole numbers"),
        (PAIRWISE, 2, Verdict(ranks="12"), "whole numbers"),
        (PAIRWISE, 2, Verdict(ranks=[1, None]), "whole numbers"),
        (PAIRWISE, 2, Verdict(ranks=[[1], [2]], strength=1), "whole numbers"),
        (PAIRWISE, 2, Verdict(ranks={"a": 1}), "whole numbers"),
        (PAIRWISE, 2, Verdict(ratings=[1, 2]), "send ranks, not ratings"),
        (PAIRWISE, 2, Verdict(ranks=[1, 1], strength=2), "A tie has no preference strength"),
        (PAIRWISE, 2, Verdict(ranks=[1, 2], strength=4), "strength must be one of 1, 2, 3"),
        (PAIRWISE, 2, Verdict(ranks=[1, 2], strength=0), "strength must be one of"),
        (PAIRWISE, 2, Verdict(ranks=[1, 2], strength=True), "strength must be one of"),
        (PAIRWISE_NO_TIES, 2, Verdict(ranks=[1, 1]), "does not allow ties"),
        (RANKING, 4, Verdict(ranks=[1, 2, 3, 5]), "each of 1 to 4 once"),
        (RANKING, 4, Verdict(ranks=[2, 3, 4, 5]), "each of 1 to 4 once"),
        (RANKING, 4, Verdict(ranks=[1, 1, 4, 4]), "not a ranking with ties"),
        (RANKING, 4, Verdict(ranks=[2, 2, 3, 4]), "not a ranking with ties"),
        (RANKING, 4, Verdict(ranks=[1, 2, 3, 4], strength=1), "only applies to pairwise"),
        (RANKING_NO_TIES, 3, Verdict(ranks=[1, 1, 2]), "does not allow ties"),
        (RATING, 3, Verdict(ratings=[1, 6, 3]), "outside the scale 1 to 5"),
        (RATING, 3, Verdict(ratings=[0, 2, 3]), "outside the scale 1 to 5"),
        (RATING, 3, Verdict(ratings=[1, 2]), "3 expected, 2 given"),
        (RATING, 3, Verdict(ranks=[1, 2, 3]), "send ratings, not ranks"),
        (RATING, 3, Verdict(), "rating for every response"),
        (RATING, 3, Verdict(ratings=[1, 2, 3], strength=2), "only applies to pairwise"),
    ],
)
def test_malformed_judgements_are_refused_with_a_reason(project, n, verdict, says):
    errors = judgement_errors(project, n, verdict, seconds_spent=3)
    assert any(says in error for error in errors), errors


@pytest.mark.parametrize("seconds", [-1, None, "5", float("nan"), float("inf")])
def test_time_spent_must_be_a_non_negative_number(seconds):
    errors = judgement_errors(PAIRWISE, 2, Verdict(ranks=[1, 2]), seconds_spent=seconds)
    assert any("time spent" in error for error in errors), errors
