from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, render
from django.urls import path

from . import moderation
from .exporting.admin import SnapshotAdmin, export_snapshot_action, export_snapshot_url
from .forms import ImportItemsForm
from .importing import import_items
from .models import AnnotatorFlag, Assignment, Item, Judgement, Membership, Project, Response, Snapshot


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


def _set_membership(modeladmin, request, memberships, message: str, action: str) -> None:
    count = memberships.update(**moderation.ACTIONS[action])
    modeladmin.message_user(request, message.format(count=count))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "is_suspended", "exclude_from_exports", "joined_at"]
    list_filter = ["project", "role", "is_suspended", "exclude_from_exports"]
    search_fields = ["user__username", "project__name"]
    list_select_related = ["user", "project"]
    autocomplete_fields = ["user"]
    actions = ["suspend", "reinstate", "exclude_from_exports", "include_in_exports"]

    @admin.action(description="Suspend: hand the selected annotators no more items")
    def suspend(self, request, queryset):
        _set_membership(self, request, queryset, "Suspended {count} annotator(s).", "suspend")

    @admin.action(description="Reinstate the selected annotators")
    def reinstate(self, request, queryset):
        _set_membership(self, request, queryset, "Reinstated {count} annotator(s).", "reinstate")

    @admin.action(description="Exclude the selected annotators' judgements from exports")
    def exclude_from_exports(self, request, queryset):
        _set_membership(self, request, queryset, "Excluded {count} annotator(s) from exports.", "exclude")

    @admin.action(description="Include the selected annotators' judgements in exports again")
    def include_in_exports(self, request, queryset):
        _set_membership(self, request, queryset, "Included {count} annotator(s) in exports.", "include")


@admin.register(AnnotatorFlag)
class AnnotatorFlagAdmin(admin.ModelAdmin):
    list_display = ["annotator", "project", "kind", "reason", "statistic", "p_value", "is_active", "computed_at"]
    list_filter = ["project", "kind", "is_active"]
    search_fields = ["annotator__username", "reason"]
    list_select_related = ["annotator", "project"]
    readonly_fields = ["project", "annotator", "kind", "reason", "statistic", "p_value", "computed_at", "is_active"]
    actions = ["suspend_annotators", "exclude_annotators_from_exports"]

    def has_add_permission(self, request):
        return False  # flags come from the statistics, not from hand entry

    def _memberships_of(self, flags):
        return Membership.objects.filter(Exists(flags.filter(project=OuterRef("project"), annotator=OuterRef("user"))))

    @admin.action(description="Suspend the flagged annotators in these projects")
    def suspend_annotators(self, request, queryset):
        _set_membership(self, request, self._memberships_of(queryset), "Suspended {count} annotator(s).", "suspend")

    @admin.action(description="Exclude the flagged annotators' judgements from exports")
    def exclude_annotators_from_exports(self, request, queryset):
        _set_membership(self, request, self._memberships_of(queryset), "Excluded {count} annotator(s) from exports.", "exclude")
