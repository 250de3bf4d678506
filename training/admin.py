"""Runs in the admin: a launch form, a live run page (htmx polls its partial), cancel, resume,
retry, and a page that overlays two runs' curves."""
import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from training.engine.config import PRESETS

from . import liveness, runs
from .charts import build_charts
from .forms import LaunchRunForm
from .models import Run


# The engine logs PPO's generations as "step 12 sample: 'prompt' -> 'response' (reward 1.3)".
SAMPLE_LINE = re.compile(r"^step \d+ sample: ")


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "status_badge", "base_model", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "base_model", "dataset_path"]
    list_select_related = ["parent", "snapshot__project"]
    actions = ["compare_selected"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, run):
        return format_html('<span class="run-status run-status-{}">{}</span>', run.status, run.get_status_display())

    @admin.action(description="Compare the curves of the two selected runs")
    def compare_selected(self, request, queryset):
        chosen = sorted(queryset.values_list("pk", flat=True))
        if len(chosen) != 2:
            self.message_user(request, "Select exactly two runs to compare.", messages.ERROR)
            return None
        return redirect(f"{reverse('admin:training_run_compare')}?run={chosen[0]}&run={chosen[1]}")

    def has_add_permission(self, request):
        return False  # runs are launched through the launch form, which validates and queues them

    def get_urls(self):
        def view(function, route, name):
            return path(route, self.admin_site.admin_view(function), name=f"training_run_{name}")

        return [
            view(self.launch_view, "launch/", "launch"),
            view(self.compare_view, "compare/", "compare"),
            view(self.live_view, "<int:run_id>/live/", "live"),
            view(require_POST(self.cancel_view), "<int:run_id>/cancel/", "cancel"),
            view(require_POST(self.resume_view), "<int:run_id>/resume/", "resume"),
            view(require_POST(self.retry_view), "<int:run_id>/retry/", "retry"),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def _require(self, request, permission: str) -> None:
        if not request.user.has_perm(f"training.{permission}_run"):
            raise PermissionDenied

    def launch_view(self, request):
        self._require(request, "add")
        form = LaunchRunForm(request.POST or None, initial={"kind": request.GET.get("kind", "reward")})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            request_fields = {
                "kind": data["kind"], "base_model": data["base_model"].strip(), "preset": data["preset"],
                "config_overrides": data["config_overrides"], "snapshot": data["snapshot"],
                "dataset_path": data["dataset_path"].strip(),
                "parent": data["parent"], "name": data["name"], "resume_on_worker_loss": data["resume_on_worker_loss"],
            }
            try:
                run = runs.launch(runs.LaunchRequest(**request_fields), created_by=request.user)
            except runs.LaunchError as error:
                form.add_launch_errors(error.errors)
            else:
                messages.success(request, f"{run} is queued.")
                return redirect("admin:training_run_change", run.pk)
        context = self._context(request, title="Launch a training run", form=form, presets=PRESETS)
        return TemplateResponse(request, "admin/training/run/launch.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._require(request, "view")
        run = get_object_or_404(Run.objects.select_related("parent", "created_by", "snapshot__project"), pk=object_id)
        others = Run.objects.exclude(pk=run.pk).filter(kind=run.kind)[:50]
        context = self._context(
            request, title=str(run), original=run, others=others, can_resume=runs.has_checkpoint(run),
            **self._live_context(run),
        )
        return TemplateResponse(request, "admin/training/run/run_page.html", context)

    def live_view(self, request, run_id):
        self._require(request, "view")
        run = get_object_or_404(Run, pk=run_id)
        return render(request, "admin/training/run/partials/live.html", self._live_context(run))

    @staticmethod
    def _live_context(run: Run) -> dict:
        # The page is where people notice a stuck run: settle it here too if its worker is gone.
        if liveness.reap_lost_runs(runs_to_check=[run]):
            run.refresh_from_db()  # only then: refreshing drops the page's select_related rows
        lines = run.log_tail.splitlines()
        samples = [line for line in lines if SAMPLE_LINE.match(line)]
        return {"run": run, "charts": build_charts([run]), "log_lines": lines, "samples": samples[-5:]}

    def cancel_view(self, request, run_id):
        return self._act(request, run_id, runs.request_cancel, "Cancel requested for {run}.")

    def resume_view(self, request, run_id):
        return self._act(request, run_id, runs.resume, "{run} is queued again and resumes from its last checkpoint.")

    def retry_view(self, request, run_id):
        return self._act(request, run_id, lambda run: runs.retry(run, created_by=request.user), "{run} is queued.")

    def _act(self, request, run_id, action, success: str):
        self._require(request, "change")
        run = get_object_or_404(Run, pk=run_id)
        try:
            run = action(run)
        except runs.RunError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, success.format(run=run))
        return redirect("admin:training_run_change", run.pk)

    def compare_view(self, request):
        self._require(request, "view")
        chosen = [get_object_or_404(Run, pk=pk) for pk in request.GET.getlist("run")[:2] if pk.isdigit()]
        if len(chosen) != 2:
            messages.error(request, "Choose two runs to compare.")
            return redirect("admin:training_run_changelist")
        context = self._context(
            request, title=f"{chosen[0]} vs {chosen[1]}", compared=chosen, charts=build_charts(chosen),
            back=reverse("admin:training_run_change", args=[chosen[0].pk]),
        )
        return TemplateResponse(request, "admin/training/run/compare.html", context)

    def changelist_view(self, request, extra_context=None):
        extra = {"launch_url": reverse("admin:training_run_launch"), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)
