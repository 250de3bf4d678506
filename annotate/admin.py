from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import path

from .exporting.admin import SnapshotAdmin, export_snapshot_action, export_snapshot_url
from .forms import ImportItemsForm
from .importing import import_items
from .models import Assignment, Item, Judgement, Membership, Project, Response, Snapshot


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "task_mode", "overlap", "is_active", "created_at"]
    list_filter = ["task_mode", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    actions = [export_snapshot_action]

    def get_urls(self):
        import_url = path(
            "<path:object_id>/import-items/",
            self.admin_site.admin_view(self.import_items_view),
            name="annotate_project_import_items",
        )
        return [import_url, export_snapshot_url(self), *super().get_urls()]

    def import_items_view(self, request, object_id):
        project = get_object_or_404(Project, pk=object_id)
        if not (self.has_change_permission(request, project) and request.user.has_perm("annotate.add_item")):
            raise PermissionDenied
        form = ImportItemsForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            report = import_items(
                project, data["file"], format=data["format"], on_duplicate=data["on_duplicate"], dry_run=data["dry_run"]
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": project,
            "title": f"Import items into {project}",
            "form": form,
            "report": report,
        }
        return render(request, "admin/annotate/project/import_items.html", context)


class ResponseInline(admin.TabularInline):
    model = Response
    extra = 0


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["external_id", "project", "is_gold", "judgement_count", "created_at"]
    list_filter = ["project", "is_gold"]
    search_fields = ["external_id"]
    list_select_related = ["project"]
    readonly_fields = ["judgement_count"]
    inlines = [ResponseInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["item", "annotator", "state", "leased_at", "expires_at"]
    list_filter = ["state", "project"]
    list_select_related = ["item__project", "annotator"]
    raw_id_fields = ["item"]


@admin.register(Judgement)
class JudgementAdmin(admin.ModelAdmin):
    list_display = ["item", "annotator", "ranks", "ratings", "seconds_spent", "created_at"]
    list_filter = ["project"]
    list_select_related = ["item__project", "annotator"]
    raw_id_fields = ["item", "assignment"]


admin.site.register(Snapshot, SnapshotAdmin)
