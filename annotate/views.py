"""The annotator's pages: parse the request, call the queue, render a page or an htmx partial.

htmx requests get the `#workspace` partial (always status 200, so htmx swaps it in);
plain browser requests get the whole page, and a successful POST redirects back to it.
"""
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from . import queue
from .answers import draft_from_judgement, draft_from_post, read_answer
from .models import Assignment, Judgement, Membership, Project, TaskMode

SESSION_STARTED = "annotate-session-started"
STRENGTH_KEYS = {Judgement.Strength.SLIGHTLY: "s", Judgement.Strength.CLEARLY: "c", Judgement.Strength.MUCH: "m"}
SKIP_REASONS = [
    "I can't judge this topic",
    "The prompt is unclear or broken",
    "The responses are unreadable or truncated",
    "Harmful or disturbing content",
]
# Page titles for the states that are not an item; the message beside it says the rest (the
# queue's, for its refusals). `empty` is ours: the queue answers None when nothing is left.
STATE_TITLES = {
    "empty": "All done for now",
    "lease_expired": "This item's time ran out",
    "not_your_lease": "This item is not yours any more",
    "undo_unavailable": "That answer can no longer change",
    "suspended": "Your work on this project is paused",
    "project_closed": "This project is closed",
    "not_member": "You are not on this project",
}
FORBIDDEN_STATES = {"suspended", "not_member"}
MOVE_ON_STATES = {"empty", "lease_expired", "not_your_lease", "undo_unavailable"}


@login_required
def home(request):
    memberships = (
        Membership.objects.filter(user=request.user, project__is_active=True)
        .select_related("project")
        .order_by("project__name")
    )
    rows = [
        {"project": membership.project, "suspended": membership.is_suspended,
         "progress": queue.progress(membership.project, request.user)}
        for membership in memberships
    ]
    return render(request, "annotate/home.html", {"rows": rows})


@login_required
def annotate(request, slug):
    return _next_item(request, get_object_or_404(Project, slug=slug))


@login_required
@require_POST
def submit(request, slug):
    def record(project, assignment):
        answer = read_answer(project, assignment.shown_order, request.POST)
        queue.submit(assignment.pk, request.user, **answer)

    return _change_posted_assignment(request, slug, record)


@login_required
@require_POST
def skip(request, slug):
    def give_back(project, assignment):
        reason = (request.POST.get("reason_text") or request.POST.get("reason") or "").strip()
        queue.skip(assignment.pk, request.user, reason=reason)

    return _change_posted_assignment(request, slug, give_back)


@login_required
@require_POST
def undo(request, slug):
    project = get_object_or_404(Project, slug=slug)
    try:
        assignment = queue.undo_last(project, request.user)
    except queue.UndoUnavailable as refusal:
        return _notice(request, project, refusal.message)
    except queue.QueueError as refusal:
        return _state(request, project, refusal.code, refusal.message)
    if not request.htmx:
        return redirect("annotate", slug=project.slug)
    return _item(request, project, assignment)


def _change_posted_assignment(request, slug: str, change):
    """Apply `change(project, assignment)` to the posted assignment, then move on to the next item.

    A refused answer comes back on the same item with what was entered, so nothing is lost.
    """
    project = get_object_or_404(Project, slug=slug)
    assignment = _posted_assignment(request, project)
    if assignment is None:
        return _state(request, project, "not_your_lease", "It is no longer reserved for you.")
    try:
        change(project, assignment)
    except queue.InvalidJudgement as refusal:
        return _item(request, project, assignment, draft=draft_from_post(request.POST), errors=refusal.errors)
    except queue.QueueError as refusal:
        return _state(request, project, refusal.code, refusal.message)
    return _after_change(request, project)


def _posted_assignment(request, project: Project) -> Assignment | None:
    assignment_id = request.POST.get("assignment", "")
    if not assignment_id.isdecimal() or len(assignment_id) > 18:  # beyond a bigint: no such row
        return None
    return (
        Assignment.objects.select_related("item")
        .filter(pk=int(assignment_id), project=project, annotator=request.user)
        .first()
    )


def _after_change(request, project: Project):
    """The next item in place for htmx; a redirect for a plain form post (so reload is safe)."""
    if request.htmx:
        return _next_item(request, project)
    return redirect("annotate", slug=project.slug)


def _next_item(request, project: Project, notice: str = ""):
    try:
        assignment = queue.next_assignment(project, request.user)
    except queue.QueueError as refusal:
        return _state(request, project, refusal.code, refusal.message)
    if assignment is None:
        return _state(request, project, "empty", "There is nothing left for you to judge in this project. Thank you!")
    return _item(request, project, assignment, notice=notice)


def _item(request, project: Project, assignment: Assignment, *, draft=None, errors=(), notice: str = ""):
    if draft is None:
        # After an undo the queue hands the judgement's values back for editing.
        previous = getattr(assignment, "edit_of", None)
        draft = draft_from_judgement(project, previous) if previous else {}
    responses = {response.position: response for response in assignment.item.responses.all()}
    pairwise = project.task_mode == TaskMode.PAIRWISE
    cards = [
        {
            "response": responses[position],
            "position": position,
            "number": index + 1,
            "label": "AB"[index] if pairwise else str(index + 1),
            "chosen": draft.get("preferred") == str(position),
            "rank": _int_or_none(draft.get(f"rank-{position}")),
            "rating": _int_or_none(draft.get(f"rating-{position}")),
        }
        for index, position in enumerate(assignment.shown_order)
    ]
    context = {
        "project": project,
        "assignment": assignment,
        "cards": cards,
        "draft": draft,
        "errors": errors,
        "notice": notice,
        "session_count": _session_count(request, project),
        "rank_choices": range(1, len(cards) + 1),
        "scale": range(project.rating_min, project.rating_max + 1),
        "strengths": [(value, label, STRENGTH_KEYS[value]) for value, label in Judgement.Strength.choices],
        "skip_reasons": SKIP_REASONS,
        "show_guidelines": True,
    }
    return render(request, _template(request), context)


def _state(request, project: Project, code: str, message: str):
    title = STATE_TITLES.get(code, "Something went wrong")
    context = {"project": project, "code": code, "title": title, "message": message,
               "show_guidelines": code not in FORBIDDEN_STATES, "can_move_on": code in MOVE_ON_STATES}
    status = 403 if code in FORBIDDEN_STATES and not request.htmx else 200
    return render(request, _template(request), context, status=status)


def _notice(request, project: Project, message: str):
    """A passing message that leaves the item on screen as it is."""
    if not request.htmx:
        return _next_item(request, project, notice=message)
    response = render(request, "annotate/partials/notice.html", {"notice": message})
    return reswap(retarget(response, "#notice"), "innerHTML")


def _template(request) -> str:
    return "annotate/partials/workspace.html" if request.htmx else "annotate/annotate.html"


def _session_count(request, project: Project) -> int:
    """Judgements in this project since this login session first opened an item."""
    started = request.session.setdefault(SESSION_STARTED, timezone.now().isoformat())
    return Judgement.objects.filter(
        annotator=request.user, project=project, created_at__gte=datetime.fromisoformat(started)
    ).count()


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
