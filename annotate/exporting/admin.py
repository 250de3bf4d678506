"""The admin's side of exports: a Project action and page that queue a snapshot, and the Snapshot pages.

Snapshots are read-only in the admin: made by the export page, built by a worker, downloaded here.
"""
import json
from pathlib import Path

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from ..forms import ExportSnapshotForm
from ..models import Project, Snapshot
from .manifest import MANIFEST
from .options import ExportOptionsError
from .snapshot import queue_snapshot


@admin.action(description="Export a snapshot of the selected projects…")
def export_snapshot_action(modeladmin, request, queryset):
    first, *others = queryset.order_by("pk")
    url = reverse("admin:annotate_project_export_snapshot", args=[first.pk])
    return redirect(f"{url}?also={','.join(str(project.pk) for project in others)}" if others else url)


def export_snapshot_url(project_admin):
    def view(request, object_id):
        return export_snapshot_view(project_admin, request, object_id)

    return path(
        "<path:object_id>/export-snapshot/", project_admin.admin_site.admin_view(view), name="annotate_project_export_snapshot"
    )


def export_snapshot_view(project_admin, request, object_id):
    project = get_object_or_404(Project, pk=object_id)
    if not (project_admin.has_view_permission(request, project) and request.user.has_perm("annotate.add_snapshot")):
        raise PermissionDenied
    also = [pk for pk in request.GET.get("also", "").split(",") if pk.isdigit()]
    form = ExportSnapshotForm(request.POST or None, project=project, initial={"also": also})
    if request.method == "POST" and form.is_valid():
        try:
            snapshot = queue_snapshot(project, options=form.export_options(), created_by=request.user)
        except ExportOptionsError as error:
            for field, message in error.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, f"{snapshot} is queued; this page shows its progress.")
            return redirect("admin:annotate_snapshot_change", snapshot.pk)
    context = {
        **project_admin.admin_site.each_context(request),
        "opts": project_admin.opts,
        "original": project,
        "title": f"Export a snapshot of {project}",
        "form": form,
    }
    return render(request, "admin/annotate/project/export_snapshot.html", context)


class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "kind", "status", "progress_percent", "rows", "short_sha256", "created_at", "created_by"]
    list_filter = ["status", "kind", "project"]
    list_select_related = ["project", "created_by"]
    fields = [
        "project", "kind", "status", "progress_percent", "error", "rows", "files", "sha256", "folder", "options", "counts",
        "annotators", "code_version", "created_at", "created_by",
    ]
    readonly_fields = fields
    change_form_template = "admin/annotate/snapshot/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress_percent(self, snapshot):
        return f"{snapshot.progress:.0%}"

    @admin.display(description="rows (train / test)")
    def rows(self, snapshot):
        rows = snapshot.counts.get("rows")
        return f"{rows['train']} / {rows['test']}" if rows else "-"

    @admin.display(description="sha256")
    def short_sha256(self, snapshot):
        return snapshot.sha256[:12]

    @admin.display(description="files")
    def files(self, snapshot):
        if snapshot.status != Snapshot.Status.READY:
            return "-"
        names = [MANIFEST, *_manifest(snapshot)["files"]]
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", '<li><a href="{}">{}</a></li>',
                ((reverse("admin:annotate_snapshot_download", args=[snapshot.pk, name]), name) for name in names),
            ),
        )

    def get_urls(self):
        download = path(
            "<path:object_id>/download/<path:name>",
            self.admin_site.admin_view(self.download_view),
            name="annotate_snapshot_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request, object_id, name):
        snapshot = get_object_or_404(Snapshot, pk=object_id)
        if not self.has_view_permission(request, snapshot):
            raise PermissionDenied
        # Only the files the manifest lists: a name from the URL never reaches the filesystem unchecked.
        if snapshot.status != Snapshot.Status.READY or name not in {MANIFEST, *_manifest(snapshot)["files"]}:
            raise Http404(f"{snapshot} has no file {name!r}")
        return FileResponse(open(snapshot.path / name, "rb"), as_attachment=True, filename=Path(name).name)


def _manifest(snapshot: Snapshot) -> dict:
    return json.loads((snapshot.path / MANIFEST).read_text(encoding="utf-8"))
