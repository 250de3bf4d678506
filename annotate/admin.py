from django.contrib import admin

from .models import Assignment, Item, Judgement, Membership, Project, Response


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
