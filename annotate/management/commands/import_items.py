from django.core.management.base import BaseCommand, CommandError

from annotate.importing import FORMATS, ON_DUPLICATE, import_items
from annotate.models import Project


class Command(BaseCommand):
    help = "Import items from a JSONL, JSON or CSV file (gzipped or not) into a project; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("project", help="the project's slug")
        parser.add_argument("file")
        parser.add_argument("--format", choices=FORMATS, default="auto")
        parser.add_argument(
            "--on-duplicate", choices=ON_DUPLICATE, default="reject",
            help="what to do with an item whose id the project already has (default: reject)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count everything, save nothing")

    def handle(self, *args, project, file, format, on_duplicate, dry_run, **options):
        try:
            target = Project.objects.get(slug=project)
        except Project.DoesNotExist:
            raise CommandError(f"no project with slug {project!r}") from None
        report = import_items(target, file, format=format, on_duplicate=on_duplicate, dry_run=dry_run)
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        for error in report.errors:
            self.stderr.write(str(error))
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
