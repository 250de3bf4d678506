"""Writing item drafts to the database in batches: bulk inserts, with duplicates rejected, skipped or updated.

Once the report holds an error nothing more is written (the import will be rolled back), but
every batch is still checked against the database so that all bad lines get reported.
"""
from django.db import connection
from django.db.models import Exists, OuterRef

from annotate.models import Assignment, Item, Project, Response

from .drafts import ItemDraft
from .report import ImportReport, LineError

ON_DUPLICATE = ("reject", "skip", "update")
BATCH_SIZE = 2000
RESPONSE_COLUMNS = ("item", "position", "text", "model_name")


class ItemWriter:
    def __init__(self, project: Project, on_duplicate: str, report: ImportReport):
        self.project = project
        self.on_duplicate = on_duplicate
        self.report = report
        self.pending: list[ItemDraft] = []

    def add(self, draft: ItemDraft) -> None:
        self.pending.append(draft)
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        drafts, self.pending = self.pending, []
        if not drafts:
            return
        existing = self._existing([draft.external_id for draft in drafts])
        fresh, changed = [], []
        for draft in drafts:
            item = existing.get(draft.external_id)
            if item is None:
                fresh.append(draft)
            elif self.on_duplicate == "skip":
                self.report.skipped += 1
            elif self.on_duplicate == "reject":
                self._refuse(draft, f"'{draft.external_id}' already exists in project '{self.project.slug}' "
                             "(import with on_duplicate 'skip' or 'update' to re-import a file)")
            elif _same_content(item, draft):
                self.report.unchanged += 1
            elif item.is_in_use:
                self._refuse(draft, f"'{draft.external_id}' has already been handed to annotators, so its content "
                             "cannot change; give the new version a new id")
            else:
                changed.append((item, draft))
        if self.report.ok:
            self._create(fresh)
            self._update(changed)

    def _existing(self, external_ids: list[str]) -> dict[str, Item]:
        items = Item.objects.filter(project=self.project, external_id__in=external_ids)
        if self.on_duplicate == "update":
            items = items.prefetch_related("responses").annotate(
                is_in_use=Exists(Assignment.objects.filter(item=OuterRef("pk")))
            )
        else:
            items = items.only("external_id")
        return {item.external_id: item for item in items}

    def _refuse(self, draft: ItemDraft, message: str) -> None:
        self.report.errors.append(LineError(draft.line, "id", message))

    def _create(self, drafts: list[ItemDraft]) -> None:
        items = Item.objects.bulk_create(
            Item(
                project=self.project,
                external_id=draft.external_id,
                prompt=draft.prompt,
                metadata=draft.metadata,
                is_gold=draft.gold_answer is not None,
                gold_answer=draft.gold_answer,
            )
            for draft in drafts
        )
        self._write_responses(items, drafts)
        self.report.created += len(items)

    def _update(self, changed: list[tuple[Item, ItemDraft]]) -> None:
        if not changed:
            return
        for item, draft in changed:
            item.prompt, item.metadata = draft.prompt, draft.metadata
            item.is_gold, item.gold_answer = draft.gold_answer is not None, draft.gold_answer
        items = [item for item, _ in changed]
        Item.objects.bulk_update(items, ["prompt", "metadata", "is_gold", "gold_answer"])
        Response.objects.filter(item__in=items).delete()
        self._write_responses(items, [draft for _, draft in changed])
        self.report.updated += len(items)

    def _write_responses(self, items: list[Item], drafts: list[ItemDraft]) -> None:
        rows = [
            (item.pk, position, response.text, response.model_name)
            for item, draft in zip(items, drafts)
            for position, response in enumerate(draft.responses)
        ]
        # Responses are most of the rows of an import, so they skip bulk_create, which spends
        # its time building a model instance per row: PostgreSQL takes them by COPY (5x faster
        # than executemany there), SQLite by executemany.
        quote = connection.ops.quote_name
        table = quote(Response._meta.db_table)
        columns = ", ".join(quote(Response._meta.get_field(name).column) for name in RESPONSE_COLUMNS)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)", rows)
        self.report.responses_written += len(rows)


def _same_content(item: Item, draft: ItemDraft) -> bool:
    return (
        item.prompt == draft.prompt
        and item.metadata == draft.metadata
        and item.gold_answer == draft.gold_answer
        and [(r.text, r.model_name) for r in item.responses.all()] == [(r.text, r.model_name) for r in draft.responses]
    )
