"""Items with their responses and judgements, streamed from the database in item order.

Three ordered queries (items, responses, judgements) are read in chunks (server-side cursors on
PostgreSQL, fetchmany on SQLite) and merged by item id, so memory holds one chunk and one item
at a time however large the project is. Rows come as the database driver returns them, without
Django's per-row iterator and converters: JSON columns are read as text and parsed here.
"""
import json
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

from django.db.models import TextField
from django.db.models.functions import Cast

from ..driver_rows import driver_rows
from ..models import Item, Judgement, Response

CHUNK_SIZE = 10_000
_parse_json = json.JSONDecoder().decode  # json.loads without its frame of argument checks, per item


@dataclass(slots=True)
class SourceItem:
    project_id: int
    external_id: str
    prompt: str | list
    responses: list[str]
    # (annotator_id, ranks, ratings, strength), in the order they were submitted
    judgements: list[tuple]


def stream_items(project_ids: list[int], *, include_gold: bool, chunk_size: int = CHUNK_SIZE):
    items = Item.objects.filter(project_id__in=project_ids)
    if not include_gold:
        items = items.filter(is_gold=False)
    # `item_id IN (the items)` lets the database walk the (item, position) and item indexes in
    # order, where a join with the item table (or a filter on the judgement's project) made it
    # sort every response and judgement first. A judgement's project is its item's.
    responses = Response.objects.filter(item__in=items.values("id"))
    judgements = Judgement.objects.filter(item__in=items.values("id"))
    item_rows = driver_rows(items.order_by("id").values_list("id", "project_id", "external_id", Cast("prompt", TextField())), chunk_size)
    response_groups = _Groups(driver_rows(responses.order_by("item_id", "position").values_list("item_id", "text"), chunk_size))
    judgement_groups = _Groups(
        driver_rows(
            judgements.order_by("item_id", "id").values_list(
                "item_id", "annotator_id", Cast("ranks", TextField()), Cast("ratings", TextField()), "strength"
            ),
            chunk_size,
        )
    )
    for item_id, project_id, external_id, prompt in item_rows:
        yield SourceItem(
            project_id,
            external_id,
            _parse_json(prompt),
            [text for _, text in response_groups.take(item_id)],
            [
                (annotator_id, _small_list(ranks), _small_list(ratings), strength)
                for _, annotator_id, ranks, ratings, strength in judgement_groups.take(item_id)
            ],
        )


@lru_cache(maxsize=4096)
def _small_list(text: str | None) -> tuple | None:
    """Ranks or ratings from their JSON text, read as text: few distinct lists recur across all
    judgements, so parsing each once beats the JSONField converter's json.loads per row."""
    return None if text is None else tuple(json.loads(text))


class _Groups:
    """Rows sorted by item id (their first value), handed out one item's group at a time."""

    def __init__(self, rows):
        self._groups = groupby(rows, key=itemgetter(0))
        self._current = next(self._groups, None)

    def take(self, item_id: int) -> list[tuple]:
        # Rows of items the item query did not return (created mid-export) are skipped.
        while self._current is not None and self._current[0] < item_id:
            self._current = next(self._groups, None)
        if self._current is None or self._current[0] != item_id:
            return []
        rows = list(self._current[1])
        self._current = next(self._groups, None)
        return rows


def count_items(project_ids: list[int], *, include_gold: bool) -> int:
    items = Item.objects.filter(project_id__in=project_ids)
    return (items if include_gold else items.filter(is_gold=False)).count()
