"""When to recompute a project's flags: every so many submits and on a schedule, never inside a
submit, with at most one recomputation queued per project at a time."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .models import Judgement, Project

# A request older than this is presumed lost (a worker died, a message vanished) and may be renewed.
STALE_REQUEST = timedelta(hours=1)


def request_refresh(project_id: int) -> bool:
    """Queue a recomputation of the project's flags unless one is already queued.

    The claim is a single conditional UPDATE of the project row, so concurrent callers (web
    processes, the beat task) queue one task between them. Returns whether this call queued it.
    """
    now = timezone.now()
    claimed = Project.objects.filter(
        Q(flags_requested_at__isnull=True) | Q(flags_requested_at__lt=now - STALE_REQUEST), pk=project_id
    ).update(flags_requested_at=now)
    if claimed:
        from .tasks import refresh_project_flags  # tasks import the services, not the other way round

        transaction.on_commit(lambda: refresh_project_flags.delay(project_id))
    return bool(claimed)


def judgement_recorded(judgement: Judgement) -> None:
    """Every N-th judgement (by id, so no counter row is contended) asks for fresh flags."""
    if judgement.pk % settings.FLAG_REFRESH_EVERY_SUBMITS == 0:
        # After the submit commits: its transaction must not wait on the project row's lock.
        transaction.on_commit(lambda: request_refresh(judgement.project_id))


def request_refresh_of_active_projects() -> int:
    """The scheduled sweep: ask for fresh flags of every open project that has judgements."""
    judged = Exists(Judgement.objects.filter(project=OuterRef("pk")))
    project_ids = Project.objects.filter(judged, is_active=True).values_list("pk", flat=True)
    return sum(request_refresh(project_id) for project_id in project_ids)
