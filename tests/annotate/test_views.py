"""The annotator's pages through Django's test client: every state renders a friendly page."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotate import queue
from annotate.models import Assignment, Judgement, Membership, TaskMode
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory, project_for

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def annotator():
    return UserFactory(username="ann")


@pytest.fixture
def client_of(client, annotator):
    client.force_login(annotator)
    return client


def page(client, project, **extra):
    return client.get(reverse("annotate", args=[project.slug]), **extra)


def post(client, project, action, data, **extra):
    return client.post(reverse(f"annotate-{action}", args=[project.slug]), data, **extra)


def live_assignment(project, annotator) -> Assignment:
    return Assignment.objects.get(project=project, annotator=annotator, state=Assignment.State.LEASED)


# ---- home -----------------------------------------------------------------------------


def test_home_lists_my_projects_with_progress_and_start(client_of, annotator):
    mine = project_for(annotator, name="Helpfulness", items=3)
    ProjectFactory(name="Someone else's")
    response = client_of.get(reverse("home"))
    html = response.content.decode()
    assert "Helpfulness" in html and "Someone else" not in html
    assert reverse("annotate", args=[mine.slug]) in html
    assert "0 of 3 items complete" in html


def test_home_shows_a_suspended_membership_without_start(client_of, annotator):
    project = project_for(annotator)
    Membership.objects.filter(project=project).update(is_suspended=True)
    html = client_of.get(reverse("home")).content.decode()
    assert "Paused by a project admin" in html
    assert reverse("annotate", args=[project.slug]) not in html


def test_pages_need_a_login(client):
    project = ProjectFactory()
    for url in [reverse("home"), reverse("annotate", args=[project.slug])]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


# ---- the annotate page ----------------------------------------------------------------


def test_pairwise_page_shows_guidelines_prompt_and_both_responses(client_of, annotator):
    project = project_for(annotator, guidelines="Prefer **correct** answers.")
    response = page(client_of, project)
    html = response.content.decode()
    assignment = live_assignment(project, annotator)
    assert response.status_code == 200
    assert "<strong>correct</strong>" in html
    assert assignment.item.prompt in html
    assert 'class="responses side-by-side"' in html
    first, second = assignment.shown_order
    assert html.index(f'value="{first}"> A is better') < html.index(f'value="{second}"> B is better')
    assert 'value="tie"' in html and 'id="shortcuts"' in html
    assert "htmx-2.0.11.min.js" in html and "annotate.js" in html


def test_pairwise_page_without_ties_offers_no_tie(client_of, annotator):
    project = project_for(annotator, allow_ties=False)
    assert 'value="tie"' not in page(client_of, project).content.decode()


def test_reload_shows_the_same_item(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    first = live_assignment(project, annotator)
    page(client_of, project)
    assert live_assignment(project, annotator) == first


def test_chat_prompt_is_rendered_as_turns(client_of, annotator):
    project = project_for(annotator, items=0)
    ItemFactory(project=project, prompt=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi *there*"}])
    html = page(client_of, project).content.decode()
    assert 'class="turn turn-system"' in html and 'class="turn turn-user"' in html
    assert "Hi <em>there</em>" in html


def test_ranking_page_stacks_cards_with_a_rank_per_response(client_of, annotator):
    project = project_for(annotator, task_mode=TaskMode.RANKING, n_responses=4)
    html = page(client_of, project).content.decode()
    assert 'class="responses stacked"' in html
    for position in range(4):
        assert f'name="rank-{position}"' in html
    assert 'id="ranking-tray"' in html


def test_rating_page_has_a_likert_scale_per_response(client_of, annotator):
    project = project_for(annotator, task_mode=TaskMode.RATING, n_responses=3, rating_min=1, rating_max=7)
    html = page(client_of, project).content.decode()
    for position in range(3):
        for value in (1, 7):
            assert f'name="rating-{position}" value="{value}"' in html


def test_response_markup_is_shown_as_text(client_of, annotator):
    project = project_for(annotator, items=0)
    item = ItemFactory(project=project)
    item.responses.filter(position=0).update(text='<img src=x onerror="alert(1)"> [x](javascript:alert(2))')
    html = page(client_of, project).content.decode()
    assert "&lt;img src=x onerror=" in html
    assert "<img src=x" not in html and 'href="javascript' not in html


# ---- submitting -----------------------------------------------------------------------


def test_submit_records_canonical_ranks_and_swaps_in_the_next_item(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    b_position = assignment.shown_order[1]
    response = post(client_of, project, "submit", {
        "assignment": assignment.pk, "preferred": b_position, "strength": "2",
        "rationale": " B is right ", "seconds_spent": "12.5"}, **HTMX)
    judgement = Judgement.objects.get(assignment=assignment)
    assert judgement.ranks == [1 if p == b_position else 2 for p in range(2)]
    assert (judgement.strength, judgement.rationale, judgement.seconds_spent) == (2, "B is right", 12.5)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert live_assignment(project, annotator).pk != assignment.pk
    assert 'id="session-count">1<' in html


def test_plain_form_submit_redirects_back_to_the_page(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    response = post(client_of, project, "submit", {"assignment": assignment.pk, "preferred": "tie"})
    assert response.status_code == 302 and response.url == reverse("annotate", args=[project.slug])
    assert Judgement.objects.get(assignment=assignment).ranks == [1, 1]


def test_double_submit_records_one_judgement(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    data = {"assignment": assignment.pk, "preferred": assignment.shown_order[0], "seconds_spent": "3"}
    post(client_of, project, "submit", data, **HTMX)
    again = post(client_of, project, "submit", data, **HTMX)
    assert again.status_code == 200
    assert Judgement.objects.filter(assignment=assignment).count() == 1
    assert Judgement.objects.get(assignment=assignment).item.judgement_count == 1


def test_ranking_submit_reads_ranks_by_position(client_of, annotator):
    project = project_for(annotator, task_mode=TaskMode.RANKING, n_responses=4)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    post(client_of, project, "submit", {"assignment": assignment.pk, "rank-0": "3", "rank-1": "1", "rank-2": "4",
                                        "rank-3": "2", "seconds_spent": "4"}, **HTMX)
    assert Judgement.objects.get(assignment=assignment).ranks == [3, 1, 4, 2]


def test_rating_submit_reads_ratings_by_position(client_of, annotator):
    project = project_for(annotator, task_mode=TaskMode.RATING, n_responses=2)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    post(client_of, project, "submit", {"assignment": assignment.pk, "rating-0": "5", "rating-1": "2"}, **HTMX)
    assert Judgement.objects.get(assignment=assignment).ratings == [5, 2]


def test_missing_choice_is_refused_and_keeps_what_was_entered(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    response = post(client_of, project, "submit", {
        "assignment": assignment.pk, "strength": "3", "rationale": "half done", "seconds_spent": "41"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html
    assert "Choose the better response" in html
    assert ">half done</textarea>" in html and 'name="seconds_spent" value="41"' in html
    assert 'name="strength" value="3" checked' in html
    assert f'data-assignment="{assignment.pk}"' in html
    assert not Judgement.objects.exists()


def test_ranks_that_are_not_a_ranking_are_refused_and_kept(client_of, annotator):
    project = project_for(annotator, task_mode=TaskMode.RANKING, n_responses=4)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    ranks = {"rank-0": "1", "rank-1": "3", "rank-2": "3", "rank-3": "3"}
    html = post(client_of, project, "submit", {"assignment": assignment.pk, **ranks}, **HTMX).content.decode()
    assert 'role="alert"' in html
    assert html.count('<option value="1" selected>') == 1 and html.count('<option value="3" selected>') == 3
    assert not Judgement.objects.exists()


def test_garbled_numbers_are_refused_with_a_message(client_of, annotator):
    project = project_for(annotator, task_mode=TaskMode.RATING, n_responses=2)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    html = post(client_of, project, "submit", {"assignment": assignment.pk, "rating-0": "five", "rating-1": "2"},
                **HTMX).content.decode()
    assert "&#x27;five&#x27; is not a whole number" in html
    assert not Judgement.objects.exists()


def test_submit_on_an_expired_lease_gets_a_friendly_state(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post(client_of, project, "submit", {"assignment": assignment.pk, "preferred": "tie"}, **HTMX)
    assert response.status_code == 200
    assert 'data-state="lease_expired"' in response.content.decode()
    assert not Judgement.objects.exists()


def test_submit_on_someone_elses_assignment_is_refused(client_of, annotator):
    project = project_for(annotator)
    other = UserFactory(username="other")
    MembershipFactory(project=project, user=other)
    theirs = queue.next_assignment(project, other)
    response = post(client_of, project, "submit", {"assignment": theirs.pk, "preferred": "tie"}, **HTMX)
    assert 'data-state="not_your_lease"' in response.content.decode()
    assert not Judgement.objects.exists()


def test_changing_an_answer_after_the_undo_window_is_refused_kindly(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    post(client_of, project, "submit", {"assignment": assignment.pk, "preferred": "tie"}, **HTMX)
    Judgement.objects.update(created_at=timezone.now() - timedelta(seconds=project.undo_seconds + 1))
    response = post(client_of, project, "submit", {"assignment": assignment.pk, "preferred": "0"}, **HTMX)
    html = response.content.decode()
    assert 'data-state="undo_unavailable"' in html and "Get the next item" in html
    assert Judgement.objects.get(assignment=assignment).ranks == [1, 1]


@pytest.mark.parametrize("assignment_id", ["", "abc", "²", "9" * 30, "-1"])
def test_a_garbled_assignment_id_is_refused_kindly(client_of, annotator, assignment_id):
    project = project_for(annotator)
    response = post(client_of, project, "submit", {"assignment": assignment_id, "preferred": "tie"}, **HTMX)
    assert response.status_code == 200 and 'data-state="not_your_lease"' in response.content.decode()


# ---- states ---------------------------------------------------------------------------


def test_empty_queue_says_all_done(client_of, annotator):
    project = project_for(annotator, items=0, guidelines="Be fair")
    response = page(client_of, project)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-state="empty"' in html and "Be fair" in html


def test_suspended_annotator_gets_a_friendly_page(client_of, annotator):
    project = project_for(annotator)
    Membership.objects.filter(project=project).update(is_suspended=True)
    response = page(client_of, project)
    assert response.status_code == 403
    assert 'data-state="suspended"' in response.content.decode()
    assert page(client_of, project, **HTMX).status_code == 200  # so that htmx swaps the message in


def test_closed_project_gets_a_friendly_page(client_of, annotator):
    project = project_for(annotator, is_active=False)
    response = page(client_of, project)
    assert response.status_code == 200
    assert 'data-state="project_closed"' in response.content.decode()


def test_non_member_gets_a_friendly_page_without_the_guidelines(client_of):
    project = ProjectFactory(guidelines="Internal rubric")
    ItemFactory(project=project)
    response = page(client_of, project)
    html = response.content.decode()
    assert response.status_code == 403
    assert 'data-state="not_member"' in html and "Internal rubric" not in html
    assert not Assignment.objects.exists()


def test_unknown_project_is_a_404(client_of):
    assert client_of.get(reverse("annotate", args=["no-such-project"])).status_code == 404


# ---- skip and undo --------------------------------------------------------------------


def test_skip_records_the_reason_and_moves_on(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    response = post(client_of, project, "skip", {"assignment": assignment.pk, "reason": "Other",
                                                 "reason_text": "Needs a chemist"}, **HTMX)
    assignment.refresh_from_db()
    assert (assignment.state, assignment.skip_reason) == (Assignment.State.SKIPPED, "Needs a chemist")
    assert f'data-assignment="{assignment.pk}"' not in response.content.decode()


def test_skip_needs_a_reason(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    html = post(client_of, project, "skip", {"assignment": assignment.pk, "reason": ""}, **HTMX).content.decode()
    assert "Say why you skip this item." in html
    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.LEASED


def test_undo_brings_back_the_last_judgement_for_editing(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    post(client_of, project, "submit", {"assignment": assignment.pk, "preferred": assignment.shown_order[1],
                                        "strength": "1", "rationale": "second"}, **HTMX)
    html = post(client_of, project, "undo", {}, **HTMX).content.decode()
    assert f'data-assignment="{assignment.pk}"' in html
    assert f'value="{assignment.shown_order[1]}" checked> B is better' in html
    assert ">second</textarea>" in html
    assert not Judgement.objects.exists()


def test_undo_with_nothing_to_undo_leaves_the_item_in_place(client_of, annotator):
    project = project_for(annotator)
    page(client_of, project)
    response = post(client_of, project, "undo", {}, **HTMX)
    assert response.headers["HX-Retarget"] == "#notice"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert 'class="notice"' in response.content.decode()


def test_plain_undo_with_nothing_to_undo_shows_the_notice_on_the_page(client_of, annotator):
    project = project_for(annotator)
    response = post(client_of, project, "undo", {})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert 'class="notice"' in html and 'id="judgement"' in html


def test_undo_of_a_ranking_refills_every_rank(client_of, annotator):
    project = project_for(annotator, task_mode=TaskMode.RANKING, n_responses=3)
    page(client_of, project)
    assignment = live_assignment(project, annotator)
    post(client_of, project, "submit", {"assignment": assignment.pk, "rank-0": "2", "rank-1": "3", "rank-2": "1"}, **HTMX)
    html = post(client_of, project, "undo", {}, **HTMX).content.decode()
    for position, rank in enumerate([2, 3, 1]):
        select = html[html.index(f'name="rank-{position}"'):]
        assert select.index(f'<option value="{rank}" selected>') < select.index("</select>")
