"""Creating snapshots: a pending row, then the files built in a scratch folder, hashed and moved in place.

A snapshot is immutable: it is built once, from `pending`, into a folder nobody else writes;
a failure leaves no files and the row `failed` with the reason.
"""
import shutil
import uuid
from collections import Counter
from dataclasses import replace
from operator import itemgetter
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ..models import AnnotatorFlag, Membership, Project, Snapshot
from .manifest import code_version, file_hashes, overall_sha256, write_manifest
from .options import ExportOptions, ExportOptionsError
from .pairs import pair_selections, sft_selections
from .rows import ItemRows, Layout
from .source import count_items, stream_items
from .split import split_of
from .writers import WRITERS

PROGRESS_EVERY_ITEMS = 2000


class SnapshotError(Exception):
    pass


def create_snapshot(project, *, kind=None, options=None, created_by=None) -> Snapshot:
    """Export now, in this process; returns the ready snapshot (raises SnapshotError on failure)."""
    snapshot = new_snapshot(project, kind=kind, options=options, created_by=created_by)
    build_snapshot(snapshot)
    return snapshot


def queue_snapshot(project, *, kind=None, options=None, created_by=None) -> Snapshot:
    """A pending snapshot that a worker builds (task `annotate.tasks.build_snapshot`, queue default)."""
    from ..tasks import build_snapshot as build_task

    snapshot = new_snapshot(project, kind=kind, options=options, created_by=created_by)
    transaction.on_commit(lambda: build_task.delay(snapshot.pk))
    return snapshot


def new_snapshot(project, *, kind=None, options=None, created_by=None) -> Snapshot:
    options = options if isinstance(options, ExportOptions) else ExportOptions.from_dict(options or {})
    if kind is not None:
        options = replace(options, kind=kind)
    missing = set(options.project_ids) - set(Project.objects.filter(pk__in=options.project_ids).values_list("pk", flat=True))
    if missing:
        raise ExportOptionsError({"project_ids": f"no project has id {', '.join(map(str, sorted(missing)))}"})
    with transaction.atomic():
        snapshot = Snapshot.objects.create(project=project, kind=options.kind, options=options.to_dict(), created_by=created_by)
        # The random part keeps a new database's snapshot 1 away from an old snapshot 1's files.
        snapshot.folder = f"{project.slug}/{snapshot.pk:06d}-{uuid.uuid4().hex[:8]}"
        snapshot.save(update_fields=["folder"])
    return snapshot


def build_snapshot(snapshot: Snapshot) -> None:
    claimed = Snapshot.objects.filter(pk=snapshot.pk, status=Snapshot.Status.PENDING).update(status=Snapshot.Status.RUNNING)
    if not claimed:
        raise SnapshotError(f"snapshot #{snapshot.pk} is {snapshot.status}, not pending: a snapshot is built once")
    snapshot.status = Snapshot.Status.RUNNING
    scratch = Path(settings.SNAPSHOT_DIR) / ".building" / f"{snapshot.pk}-{uuid.uuid4().hex}"
    try:
        result, written = _export(snapshot, scratch)
        files = file_hashes(scratch, known=written)
        result.update(code_version=code_version(), sha256=overall_sha256(files))
        write_manifest(scratch, _manifest(snapshot, result, files))
        snapshot.path.parent.mkdir(parents=True, exist_ok=True)
        scratch.rename(snapshot.path)
    except Exception as error:
        shutil.rmtree(scratch, ignore_errors=True)
        Snapshot.objects.filter(pk=snapshot.pk).update(status=Snapshot.Status.FAILED, error=f"{type(error).__name__}: {error}")
        snapshot.refresh_from_db()
        raise SnapshotError(f"snapshot #{snapshot.pk} failed: {error}") from error
    for name, value in result.items():
        setattr(snapshot, name, value)
    snapshot.status, snapshot.progress = Snapshot.Status.READY, 1.0
    snapshot.save(update_fields=[*result, "status", "progress"])


def _export(snapshot: Snapshot, folder) -> tuple[dict, dict]:
    """The files written into `folder`: (counts and annotators, the hashes writers kept of their files)."""
    options = ExportOptions.from_dict(snapshot.options)
    project_ids = sorted({snapshot.project_id, *options.project_ids})
    projects = {project.pk: project for project in Project.objects.filter(pk__in=project_ids)}
    excluded = _excluded_annotators(project_ids, options)
    layout = Layout.for_options(options)
    writers = [WRITERS[name](folder, layout) for name in sorted(options.file_formats)]
    counts = Counter()
    rows_per_split = Counter()
    annotator_ids = set()
    seen = set()
    total = count_items(project_ids, include_gold=not options.exclude_gold)
    for done, item in enumerate(stream_items(project_ids, include_gold=not options.exclude_gold), start=1):
        judgements = [row for row in item.judgements if (item.project_id, row[0]) not in excluded] if excluded else item.judgements
        counts["judgements_excluded"] += len(item.judgements) - len(judgements)
        counts["judgements"] += len(judgements)
        annotator_ids.update(map(itemgetter(0), judgements))
        rows = _item_rows(item, projects[item.project_id], judgements, options, layout, counts)
        if options.deduplicate:
            counts["duplicates"] += rows.drop_duplicates(seen)
        rows_per_split[rows.split] += len(rows.selections)
        counts["items"] += 1
        for writer in writers:
            writer.write(rows)
        if done % PROGRESS_EVERY_ITEMS == 0:
            Snapshot.objects.filter(pk=snapshot.pk).update(progress=0.95 * done / max(total, 1))
    written = {}
    for writer in writers:
        writer.close()
        written.update(writer.file_hashes())
    usernames = get_user_model().objects.filter(pk__in=annotator_ids).values_list("username", flat=True)
    result = {
        "counts": {**dict(sorted(counts.items())), "rows": {split: rows_per_split[split] for split in ("train", "test")}},
        "annotators": sorted(usernames),
    }
    return result, written


def _item_rows(item, project: Project, judgements: list[tuple], options: ExportOptions, layout: Layout, counts) -> ItemRows:
    if options.kind == "pairs":
        span = project.rating_max - project.rating_min
        selections = pair_selections(judgements, options, rating_span=span, counts=counts)
    else:
        selections = sft_selections(judgements, options, counts=counts)
    split = split_of(project.slug, item.external_id, seed=options.split_seed, test_fraction=options.test_fraction)
    return ItemRows(layout, split, item.prompt, item.responses, selections)


def _excluded_annotators(project_ids: list[int], options: ExportOptions) -> set[tuple[int, int]]:
    """(project id, user id) of annotators whose judgements stay out."""
    memberships = Membership.objects.filter(project_id__in=project_ids)
    excluded = set(memberships.filter(exclude_from_exports=True).values_list("project_id", "user_id"))
    if options.exclude_suspended:
        excluded |= set(memberships.filter(is_suspended=True).values_list("project_id", "user_id"))
    if options.exclude_flagged:
        flags = AnnotatorFlag.objects.filter(project_id__in=project_ids, is_active=True)
        excluded |= set(flags.values_list("project_id", "annotator_id"))
    return excluded


def _manifest(snapshot: Snapshot, result: dict, files: dict) -> dict:
    options = snapshot.options
    slugs = Project.objects.filter(pk__in={snapshot.project_id, *options["project_ids"]}).order_by("slug")
    return {
        "snapshot": snapshot.pk,
        "project": snapshot.project.slug,
        "projects": list(slugs.values_list("slug", flat=True)),
        "kind": snapshot.kind,
        "options": options,
        "counts": result["counts"],
        "annotators": result["annotators"],
        "code_version": result["code_version"],
        "created_at": snapshot.created_at.isoformat(),
        "built_at": timezone.now().isoformat(),
        "files": files,
        "sha256": result["sha256"],
    }
