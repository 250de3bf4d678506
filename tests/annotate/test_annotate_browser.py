"""The annotate page in a real Chromium: keyboard, drag and drop, htmx swaps, and inert XSS.

Screenshots for review go to test-artifacts/screenshots/.
"""
import os
import shutil
from pathlib import Path

import pytest
from django.urls import reverse

from annotate.models import Assignment, Judgement, TaskMode
from tests.factories import ItemFactory, UserFactory, project_for

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "pass-for-tests"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no Chromium at {CHROMIUM}: apt-get install chromium"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def annotator():
    return UserFactory(username="browser-annotator", password=PASSWORD)


@pytest.fixture
def page(browser, live_server, client, annotator):
    """A page already logged in as `annotator` (the login form has its own test)."""
    client.force_login(annotator)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)  # generous: the test machine is often crowded
    yield page
    context.close()


def open_project(page, live_server, project):
    page.goto(live_server.url + reverse("annotate", args=[project.slug]))
    page.wait_for_selector("#judgement")


def current_assignment(page) -> Assignment:
    return Assignment.objects.get(pk=page.get_attribute("#judgement", "data-assignment"))


def submit_and_wait(page, key="Enter"):
    """Submit (by key) and wait until htmx has swapped in something other than this item."""
    before = page.get_attribute("#judgement", "data-assignment")
    page.keyboard.press(key)
    page.wait_for_selector(f'#judgement:not([data-assignment="{before}"]), [data-state]')


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def ranks_by_display(assignment: Assignment, order: list[int]) -> list[int]:
    """Canonical ranks for a preference `order` of display numbers (1-based), best first."""
    ranks = [0] * len(assignment.shown_order)
    for place, number in enumerate(order, start=1):
        ranks[assignment.shown_order[number - 1]] = place
    return ranks


def test_log_in_and_annotate_pairwise_by_keyboard(browser, live_server, annotator):
    project = project_for(annotator, items=3, guidelines="Prefer the **correct** answer.")
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + reverse("annotate", args=[project.slug]))
    page.fill("input[name=username]", annotator.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#judgement")
    assert "correct" in page.inner_text("#guidelines")
    screenshot(page, "pairwise")

    assignment = current_assignment(page)
    page.keyboard.press("2")
    page.keyboard.press("c")
    page.keyboard.press("r")
    page.keyboard.type("B is right.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(f'#judgement:not([data-assignment="{assignment.pk}"])')

    judgement = Judgement.objects.get(assignment=assignment)
    assert judgement.ranks == ranks_by_display(assignment, [2, 1])
    assert (judgement.strength, judgement.rationale) == (Judgement.Strength.CLEARLY, "B is right.")
    assert judgement.seconds_spent > 0
    assert page.inner_text("#session-count") == "1"

    second = current_assignment(page)
    page.keyboard.press("0")
    page.dblclick("#judgement button[type=submit]")  # an impatient double click records one judgement
    page.wait_for_selector(f'#judgement:not([data-assignment="{second.pk}"])')
    assert Judgement.objects.filter(annotator=annotator).count() == 2
    assert page.inner_text("#session-count") == "2" and not page.is_visible(".errors")
    page.keyboard.press("?")
    assert page.is_visible("#shortcuts")
    screenshot(page, "shortcuts")
    context.close()


def test_rank_four_responses_by_keyboard(page, live_server, annotator):
    project = project_for(annotator, task_mode=TaskMode.RANKING, n_responses=4, allow_ties=False)
    open_project(page, live_server, project)
    assignment = current_assignment(page)
    for key in ["3", "1", "4"]:  # the fourth places itself
        page.keyboard.press(key)
    assert page.locator("#ranking-tray li.ranked").all_inner_texts() == [
        "Response 3", "Response 1", "Response 4", "Response 2"]
    for key in ["Backspace", "Backspace", "2"]:
        page.keyboard.press(key)
    assert page.locator("#ranking-tray li.ranked").all_inner_texts() == [
        "Response 3", "Response 1", "Response 2", "Response 4"]
    screenshot(page, "ranking-keyboard")
    submit_and_wait(page)
    assert Judgement.objects.get(assignment=assignment).ranks == ranks_by_display(assignment, [3, 1, 2, 4])


def test_rank_four_responses_by_drag(page, live_server, annotator):
    project = project_for(annotator, task_mode=TaskMode.RANKING, n_responses=4, allow_ties=False)
    open_project(page, live_server, project)
    assignment = current_assignment(page)
    tray = page.locator("#ranking-tray")
    tray.locator('li[data-number="4"]').drag_to(tray.locator('li[data-number="1"]'), target_position={"x": 10, "y": 3})
    tray.locator('li[data-number="2"]').drag_to(tray.locator('li[data-number="3"]'), target_position={"x": 10, "y": 30})
    assert tray.locator("li.ranked").all_inner_texts() == ["Response 4", "Response 1", "Response 3", "Response 2"]
    assert page.input_value(f'select[name="rank-{assignment.shown_order[3]}"]') == "1"
    screenshot(page, "ranking-drag")
    page.click("#judgement button[type=submit]")
    page.wait_for_selector(f'#judgement:not([data-assignment="{assignment.pk}"])')
    assert Judgement.objects.get(assignment=assignment).ranks == ranks_by_display(assignment, [4, 1, 3, 2])


def test_rate_each_response_by_keyboard_and_click(page, live_server, annotator):
    project = project_for(annotator, task_mode=TaskMode.RATING, n_responses=3, rating_min=1, rating_max=5)
    open_project(page, live_server, project)
    assignment = current_assignment(page)
    for key in ["4", "2", "ArrowUp", "3", "5"]:
        page.keyboard.press(key)
    page.click('.response[data-number="1"] .likert label:has-text("1")')  # a click changes its mind
    screenshot(page, "rating")
    submit_and_wait(page)
    by_display = [1, 3, 5]
    ratings = [by_display[assignment.shown_order.index(position)] for position in range(3)]
    assert Judgement.objects.get(assignment=assignment).ratings == ratings


def test_skip_with_a_reason_then_undo_the_last_judgement(page, live_server, annotator):
    project = project_for(annotator, items=3)
    open_project(page, live_server, project)
    judged = current_assignment(page)
    page.keyboard.press("1")
    submit_and_wait(page)

    page.keyboard.press("u")
    page.wait_for_selector(f'#judgement[data-assignment="{judged.pk}"]')
    assert page.is_checked(f'input[name="preferred"][value="{judged.shown_order[0]}"]')
    assert not Judgement.objects.filter(assignment=judged).exists()
    page.keyboard.press("2")
    submit_and_wait(page)
    assert Judgement.objects.get(assignment=judged).ranks == ranks_by_display(judged, [2, 1])

    skipped = current_assignment(page)
    page.keyboard.press("x")
    page.select_option("#skip select[name=reason]", "The prompt is unclear or broken")
    page.click("#skip button[type=submit]")
    page.wait_for_selector(f'#judgement:not([data-assignment="{skipped.pk}"]), [data-state]')
    skipped.refresh_from_db()
    assert (skipped.state, skipped.skip_reason) == (Assignment.State.SKIPPED, "The prompt is unclear or broken")

    page.goto(live_server.url + reverse("home"))
    assert "1 judged" in page.inner_text(".project")
    screenshot(page, "home")


def test_refused_submission_keeps_the_page_state(page, live_server, annotator):
    project = project_for(annotator, task_mode=TaskMode.RANKING, n_responses=4)
    open_project(page, live_server, project)
    assignment = current_assignment(page)
    page.keyboard.press("2")
    page.keyboard.press("r")
    page.keyboard.type("unfinished")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".errors")
    assert page.get_attribute("#judgement", "data-assignment") == str(assignment.pk)
    assert page.input_value("textarea[name=rationale]") == "unfinished"
    assert page.locator("#ranking-tray li.ranked").all_inner_texts() == ["Response 2"]
    screenshot(page, "refused")


def test_xss_payload_in_a_response_is_shown_as_text_and_never_runs(page, live_server, annotator):
    project = project_for(annotator, items=0)
    item = ItemFactory(project=project, prompt="<script>window.__xss = 'prompt'</script>Which is safer?")
    payload = ('<img src=x onerror="window.__xss=\'img\'"> <svg onload="alert(1)"></svg> '
               "[click me](javascript:window.__xss='link') <script>alert('script')</script> "
               '<b hx-on:click="window.__xss=\'htmx\'">htmx</b>')
    item.responses.filter(position=0).update(text=payload)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_project(page, live_server, project)
    page.get_by_text("click me").click()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert page.locator(".response img, .response svg, .response script").count() == 0
    assert "<img src=x onerror=" in page.inner_text('.response[data-position="0"]')
    screenshot(page, "xss")


def test_a_session_that_ran_out_goes_to_the_login_page_instead_of_nesting_it(page, live_server, annotator):
    project = project_for(annotator)
    open_project(page, live_server, project)
    page.context.clear_cookies(name="sessionid")  # the CSRF cookie outlives a session
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/accounts/login/?next=*")
    assert page.locator("#judgement").count() == 0 and page.is_visible("input[name=username]")
