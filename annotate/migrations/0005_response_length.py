# Response.char_count: each response's length in characters, stored so that the flags need not
# measure a project's texts on every refresh. A stored generated column: adding it computes the
# value for every existing row (PostgreSQL rewrites the table, SQLite rebuilds it), and the
# database keeps it right on every insert and update, so no data migration is needed. The index
# holds the lengths by item, so reading them does not touch the pages of the texts.

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('annotate', '0004_merge_flags'),
    ]

    operations = [
        migrations.AddField(
            model_name='response',
            name='char_count',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.functions.text.Length('text'), output_field=models.PositiveIntegerField()),
        ),
        migrations.AddIndex(
            model_name='response',
            index=models.Index(fields=['item', 'position', 'char_count'], name='response_length_by_item'),
        ),
    ]
