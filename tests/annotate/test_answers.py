"""Reading the annotate form into the queue's terms, and a judgement back into form values."""
import pytest

from annotate.answers import draft_from_judgement, read_answer
from annotate.models import Project, TaskMode
from annotate.queue import InvalidJudgement


def project(task_mode) -> Project:
    return Project(task_mode=task_mode, rating_min=1, rating_max=5)  # unsaved: nothing here touches the database


def test_pairwise_choice_becomes_canonical_ranks():
    answer = read_answer(project(TaskMode.PAIRWISE), [1, 0], {"preferred": "1", "strength": "3", "seconds_spent": "2.5"})
    assert answer == {"ranks": [2, 1], "strength": 3, "rationale": "", "seconds_spent": 2.5}


def test_pairwise_tie_ranks_both_first():
    assert read_answer(project(TaskMode.PAIRWISE), [0, 1], {"preferred": "tie"})["ranks"] == [1, 1]


@pytest.mark.parametrize("preferred", ["", "2", "A", "-1"])
def test_pairwise_without_a_valid_choice_is_refused(preferred):
    with pytest.raises(InvalidJudgement) as refused:
        read_answer(project(TaskMode.PAIRWISE), [0, 1], {"preferred": preferred})
    assert refused.value.errors == ["Choose the better response (1 or 2), or a tie (0)."]


def test_ranking_and_rating_read_one_value_per_position():
    data = {"rank-0": "2", "rank-1": "1", "rating-0": "4", "rating-1": "5", "rationale": "  why  "}
    assert read_answer(project(TaskMode.RANKING), [1, 0], data)["ranks"] == [2, 1]
    rated = read_answer(project(TaskMode.RATING), [0, 1], data)
    assert rated["ratings"] == [4, 5] and rated["rationale"] == "why" and "ranks" not in rated


def test_missing_and_garbled_values_are_each_reported():
    with pytest.raises(InvalidJudgement) as missing:
        read_answer(project(TaskMode.RANKING), [0, 1, 2], {"rank-0": "1", "rank-1": "2"})
    assert missing.value.errors == ["Rank every response before submitting."]
    with pytest.raises(InvalidJudgement) as garbled:
        read_answer(project(TaskMode.RATING), [0, 1], {"rating-0": "4", "rating-1": "x", "strength": "lots"})
    assert garbled.value.errors == ["The strength 'lots' is not a whole number.", "The rating 'x' is not a whole number."]


@pytest.mark.parametrize("raw", [None, "", "soon", "nan", "inf", "-3"])
def test_unusable_time_counts_as_zero(raw):
    data = {"preferred": "tie"} if raw is None else {"preferred": "tie", "seconds_spent": raw}
    assert read_answer(project(TaskMode.PAIRWISE), [0, 1], data)["seconds_spent"] == 0.0


@pytest.mark.parametrize("task_mode, values, draft", [
    (TaskMode.PAIRWISE, {"ranks": [2, 1], "strength": 2, "rationale": "b"},
     {"preferred": "1", "strength": "2", "rationale": "b", "rank-0": "2", "rank-1": "1"}),
    (TaskMode.PAIRWISE, {"ranks": [1, 1], "strength": None, "rationale": ""},
     {"preferred": "tie", "strength": "", "rationale": "", "rank-0": "1", "rank-1": "1"}),
    (TaskMode.RATING, {"ratings": [3, 5], "ranks": None},
     {"strength": "", "rationale": "", "rating-0": "3", "rating-1": "5"}),
])
def test_a_judgement_refills_the_form(task_mode, values, draft):
    assert draft_from_judgement(project(task_mode), values) == draft


def test_refilled_form_reads_back_to_the_same_answer():
    values = {"ranks": [3, 1, 2], "strength": None, "rationale": "close call"}
    draft = draft_from_judgement(project(TaskMode.RANKING), values)
    assert read_answer(project(TaskMode.RANKING), [2, 0, 1], draft)["ranks"] == [3, 1, 2]
