# Joins the flags/queue merge to the export/queue merge.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0003_merge_0002_flags_0002_queue"),
        ("annotate", "0003_merge_export_queue"),
    ]

    operations = []
