from django.core.management.base import BaseCommand, CommandError

from annotate.export import ExportOptionsError, SnapshotError, create_snapshot, queue_snapshot
from annotate.exporting.options import FILE_FORMATS, FORMATS, KINDS, MODES, TIES
from annotate.models import Project


class Command(BaseCommand):
    help = "Freeze a project's judgements into an immutable, hashed snapshot of TRL pairs (or SFT rows)."

    def add_arguments(self, parser):
        parser.add_argument("project", help="the project's slug")
        parser.add_argument("--kind", choices=KINDS, default="pairs")
        parser.add_argument("--mode", choices=MODES, default="per_annotator")
        parser.add_argument("--ties", choices=TIES, default="drop", help="drop ties, or keep them with margin 0")
        parser.add_argument("--rating-gap", type=float, default=1.0, help="the smallest rating gap that makes a pair")
        parser.add_argument("--format", choices=FORMATS, default="standard")
        parser.add_argument("--no-margin", action="store_true", help="leave the margin column out")
        parser.add_argument("--agreement", action="store_true", help="add an agreement column")
        parser.add_argument("--include-suspended", action="store_true", help="keep suspended annotators' judgements")
        parser.add_argument("--exclude-flagged", action="store_true", help="leave out annotators with active flags")
        parser.add_argument("--include-gold", action="store_true", help="export gold items too")
        parser.add_argument("--min-agreement", type=float, default=0.0)
        parser.add_argument("--deduplicate", action="store_true")
        parser.add_argument("--test-fraction", type=float, default=0.1)
        parser.add_argument("--split-seed", default="0")
        parser.add_argument("--also", nargs="+", default=[], metavar="SLUG", help="more projects to export with this one")
        parser.add_argument("--files", nargs="+", choices=FILE_FORMATS, default=list(FILE_FORMATS))
        parser.add_argument("--queue", action="store_true", help="let a worker build it; print the snapshot id and return")

    def handle(self, *args, project, **given):
        target = self._project(project)
        options = {
            "kind": given["kind"], "mode": given["mode"], "ties": given["ties"], "rating_gap": given["rating_gap"],
            "format": given["format"], "include_margin": not given["no_margin"], "include_agreement": given["agreement"],
            "exclude_suspended": not given["include_suspended"], "exclude_flagged": given["exclude_flagged"],
            "exclude_gold": not given["include_gold"], "min_agreement": given["min_agreement"],
            "deduplicate": given["deduplicate"], "test_fraction": given["test_fraction"], "split_seed": given["split_seed"],
            "project_ids": [self._project(slug).pk for slug in given["also"]], "file_formats": given["files"],
        }
        make = queue_snapshot if given["queue"] else create_snapshot
        try:
            snapshot = make(target, options=options)
        except (ExportOptionsError, SnapshotError) as error:
            raise CommandError(str(error)) from None
        if given["queue"]:
            self.stdout.write(f"snapshot #{snapshot.pk} queued")
            return
        rows = snapshot.counts["rows"]
        self.stdout.write(self.style.SUCCESS(
            f"snapshot #{snapshot.pk}: {rows['train']} train and {rows['test']} test rows in {snapshot.path}\nsha256 {snapshot.sha256}"
        ))

    def _project(self, slug: str) -> Project:
        try:
            return Project.objects.get(slug=slug)
        except Project.DoesNotExist:
            raise CommandError(f"no project with slug {slug!r}") from None
