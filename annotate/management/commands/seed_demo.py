from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotate.demo.seed import ADMIN, ANNOTATORS, seed_demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo: two projects with items, an admin and two annotators. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the site is served, for the printed links")

    def handle(self, *args, url, **options):
        admin_password, annotator_password = settings.DEMO_ADMIN_PASSWORD, settings.DEMO_ANNOTATOR_PASSWORD
        if not (admin_password and annotator_password):
            raise CommandError(
                "set DEMO_ADMIN_PASSWORD and DEMO_ANNOTATOR_PASSWORD: with DEBUG off there are no default demo passwords"
            )
        for slug, report in seed_demo(admin_password, annotator_password).items():
            self.stdout.write(f"{slug}: {report.summary()}")
        url = url.rstrip("/")
        self.stdout.write(self.style.SUCCESS("The demo is ready."))
        self.stdout.write(f"Annotate at {url}/ and administer at {url}/admin/ (start the site with `manage.py runserver`).")
        self.stdout.write(f"  {ADMIN} / {admin_password}   (superuser)")
        for name in ANNOTATORS:
            self.stdout.write(f"  {name} / {annotator_password}   (annotator)")
