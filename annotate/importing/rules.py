"""What a project accepts: how many responses its task mode needs and what a gold answer must look like."""
from annotate.models import Project, TaskMode

from .drafts import ItemDraft, RecordError


def check_item(draft: ItemDraft, project: Project) -> None:
    """Raise RecordError when `draft` cannot be an item of `project`."""
    count = len(draft.responses)
    if project.task_mode == TaskMode.PAIRWISE and count != 2:
        raise RecordError("responses", f"a pairwise project needs exactly 2 responses, this item has {count}")
    if draft.gold_answer is None:
        return
    if len(draft.gold_answer) != count:
        raise RecordError(
            "gold_answer", f"has {len(draft.gold_answer)} value(s) but the item has {count} responses (one value per response)"
        )
    if project.task_mode == TaskMode.RATING:
        _check_gold_ratings(draft.gold_answer, project)
    else:
        _check_gold_ranks(draft.gold_answer, project)


def _check_gold_ratings(ratings: list[int], project: Project) -> None:
    outside = [r for r in ratings if not project.rating_min <= r <= project.rating_max]
    if outside:
        raise RecordError(
            "gold_answer", f"ratings {outside} are outside the project's scale {project.rating_min}..{project.rating_max}"
        )


def _check_gold_ranks(ranks: list[int], project: Project) -> None:
    count = len(ranks)
    outside = [r for r in ranks if not 1 <= r <= count]
    if outside:
        raise RecordError("gold_answer", f"ranks {outside} are outside 1..{count} (1 = best)")
    if min(ranks) != 1:
        raise RecordError("gold_answer", "has no rank 1: the best response must be ranked 1")
    if not project.allow_ties and len(set(ranks)) != count:
        raise RecordError("gold_answer", f"ranks {ranks} contain a tie, and this project does not allow ties")
