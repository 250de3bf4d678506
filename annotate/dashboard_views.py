"""The staff dashboard of a project and its per-annotator drill-down (server-rendered)."""
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import charts
from .models import AnnotatorFlag, Judgement, Membership, Project
from .moderation import apply_membership_action
from .project_stats import dashboard_stats

JUDGEMENTS_PER_PAGE = 50


@staff_member_required
def project_dashboard(request, slug):
    project = get_object_or_404(Project, slug=slug)
    stats = dashboard_stats(project)
    over_time = [window["agreement"] for window in stats["over_time"]]
    # Agreement is unbounded below on a handful of judgements; the chart stops at -1.
    low = max(-1.0, min([0.0, *(value for value in over_time if value is not None)]))
    context = {
        "project": project,
        "stats": stats,
        "over_time_chart": charts.line_chart(over_time, low=low),
        "rows": [{**row, "agreement_bar": _bar(row["agreement"]), "gold_bar": _bar(row["gold_accuracy"])} for row in stats["annotators"]],
        "alpha_bar": _interval_bar(stats["alpha"]),
    }
    return render(request, "annotate/dashboard/project.html", context)


@staff_member_required
def annotator_dashboard(request, slug, user_id):
    project = get_object_or_404(Project, slug=slug)
    annotator = get_object_or_404(get_user_model(), pk=user_id)
    judgements = (
        Judgement.objects.filter(project=project, annotator=annotator)
        .select_related("item")
        .order_by("-created_at", "-id")
    )
    row = next((row for row in dashboard_stats(project)["annotators"] if row["user_id"] == annotator.pk), None)
    if row is None:
        raise Http404("This user has neither joined nor judged this project.")
    context = {
        "project": project,
        "annotator": annotator,
        "row": row,
        "flags": AnnotatorFlag.objects.filter(project=project, annotator=annotator).order_by("-is_active", "kind"),
        "page": Paginator(judgements, JUDGEMENTS_PER_PAGE).get_page(request.GET.get("page")),
    }
    return render(request, "annotate/dashboard/annotator.html", context)


@staff_member_required
@require_POST
def annotator_status(request, slug, user_id):
    project = get_object_or_404(Project, slug=slug)
    try:
        membership = apply_membership_action(project, user_id, request.POST.get("action", ""))
    except Membership.DoesNotExist:
        raise Http404("This user is not a member of this project.")
    except ValueError as error:
        messages.error(request, str(error))
    else:
        state = "suspended" if membership.is_suspended else "active"
        exports = "excluded from" if membership.exclude_from_exports else "included in"
        messages.success(request, f"{membership.user.get_username()} is now {state} and {exports} exports.")
    if request.POST.get("return_to") == "dashboard":
        return redirect("project_dashboard", slug=project.slug)
    return redirect("annotator_dashboard", slug=project.slug, user_id=user_id)


def _bar(value: float | None, width: int = 120) -> float | None:
    return None if value is None else charts.scale(value, 0.0, 1.0, width)


def _interval_bar(alpha: dict, width: int = 240) -> dict | None:
    if alpha["alpha"] is None:
        return None
    low, high = min(0.0, alpha["low"]), 1.0
    return {
        "width": width,
        "from": charts.scale(alpha["low"], low, high, width),
        "to": charts.scale(alpha["high"], low, high, width),
        "at": charts.scale(alpha["alpha"], low, high, width),
    }
