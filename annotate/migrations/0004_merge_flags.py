# Joins the flags migration to the export/queue merge.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0002_flags"),
        ("annotate", "0003_merge_export_queue"),
    ]

    operations = []
