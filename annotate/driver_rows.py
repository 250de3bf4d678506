"""Rows of a values_list queryset as the database driver returns them.

Django's per-row iterator and value converters cost more than the work the export and the flags
do per row over millions of rows, so these two read rows through the compiler call that
`.iterator()` itself uses. Only for columns that need no converter (text, numbers): JSON ones
go through Cast to text.
"""
from itertools import chain

from django.db import connections
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE, MULTI


def driver_rows(queryset, chunk_size: int | None = None):
    """An iterator of row tuples. With a chunk_size the rows stream in chunks of that many
    (server-side cursors on PostgreSQL unless DISABLE_SERVER_SIDE_CURSORS); without, the result is read
    whole."""
    streamed = chunk_size is not None and not connections[queryset.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    compiler = queryset.query.get_compiler(using=queryset.db)
    return chain.from_iterable(
        compiler.execute_sql(MULTI, chunked_fetch=streamed, chunk_size=chunk_size or GET_ITERATOR_CHUNK_SIZE)
    )
