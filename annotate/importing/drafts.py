"""An item as read from a file, before it becomes rows, and the field checks all formats share."""
import hashlib
import json
from dataclasses import dataclass

from annotate.models import Item, Response

CHAT_ROLES = ("system", "user", "assistant")
EXTERNAL_ID_MAX_LENGTH = Item._meta.get_field("external_id").max_length
MODEL_NAME_MAX_LENGTH = Response._meta.get_field("model_name").max_length
AUTO_ID_PREFIX = "sha1-"
NUL_MESSAGE = "contains a NUL character (\\u0000), which the database cannot store"


class RecordError(ValueError):
    """One record cannot become an item: the field at fault and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ResponseDraft:
    text: str
    model_name: str = ""


@dataclass
class ItemDraft:
    line: int
    external_id: str
    prompt: str | list[dict]
    responses: list[ResponseDraft]
    metadata: dict
    gold_answer: list[int] | None = None


def item_draft(
    line: int,
    *,
    prompt: str | list[dict],
    responses: list[ResponseDraft],
    external_id: str | None = None,
    metadata: dict | None = None,
    gold_answer: list[int] | None = None,
) -> ItemDraft:
    if len(responses) < 2:
        raise RecordError("responses", f"an item needs at least 2 responses, this one has {len(responses)}")
    return ItemDraft(
        line=line,
        external_id=external_id or content_id(prompt, responses),
        prompt=prompt,
        responses=responses,
        metadata=metadata or {},
        gold_answer=gold_answer,
    )


def content_id(prompt: str | list[dict], responses: list[ResponseDraft]) -> str:
    """A stable id for an item without one, so that importing the same file twice finds the same item."""
    content = json.dumps([prompt, [r.text for r in responses]], ensure_ascii=False, sort_keys=True)
    return AUTO_ID_PREFIX + hashlib.sha1(content.encode("utf-8")).hexdigest()


def external_id_from(value: object, field: str = "id") -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(field, f"must be a string or a whole number, not {type_name(value)}")
    text = text_from(str(value), field).strip()
    if not text:
        raise RecordError(field, "is empty")
    if len(text) > EXTERNAL_ID_MAX_LENGTH:
        raise RecordError(field, f"is {len(text)} characters long; the limit is {EXTERNAL_ID_MAX_LENGTH}")
    return text


def prompt_from(value: object, field: str = "prompt") -> str | list[dict]:
    if isinstance(value, str):
        if not value.strip():
            raise RecordError(field, "is empty")
        return text_from(value, field)
    if isinstance(value, list):
        return messages_from(value, field)
    raise RecordError(field, f'must be a string or a list of {{"role", "content"}} messages, not {type_name(value)}')


def messages_from(value: object, field: str) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise RecordError(field, f"must be a non-empty list of messages, not {describe(value)}")
    messages = []
    for index, message in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(message, dict):
            raise RecordError(where, f'must be an object {{"role", "content"}}, not {type_name(message)}')
        role, content = message.get("role"), message.get("content")
        if role not in CHAT_ROLES:
            raise RecordError(f"{where}.role", f"must be one of {', '.join(CHAT_ROLES)}, not {role!r}")
        messages.append({"role": role, "content": text_from(content, f"{where}.content")})
    return messages


def response_from(value: object, field: str, text_key: str = "text") -> ResponseDraft:
    """A response given as its text, or as {text_key: text, "model": name}."""
    if isinstance(value, str):
        return ResponseDraft(text_from(value, field))
    if not isinstance(value, dict):
        raise RecordError(field, f'must be a string or an object {{"{text_key}", "model"}}, not {type_name(value)}')
    if text_key not in value:
        raise RecordError(f"{field}.{text_key}", "is missing")
    return ResponseDraft(text_from(value[text_key], f"{field}.{text_key}"), model_name_from(value.get("model"), f"{field}.model"))


def text_from(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise RecordError(field, f"must be a string, not {type_name(value)}")
    if "\x00" in value:
        raise RecordError(field, NUL_MESSAGE)
    return value


def model_name_from(value: object, field: str) -> str:
    if value is None:
        return ""
    name = text_from(value, field)
    if len(name) > MODEL_NAME_MAX_LENGTH:
        raise RecordError(field, f"is {len(name)} characters long; the limit is {MODEL_NAME_MAX_LENGTH}")
    return name


def metadata_from(value: object, field: str = "metadata") -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(field, f"must be an object, not {type_name(value)}")
    try:
        encoded = json.dumps(value, allow_nan=False)
    except ValueError:
        raise RecordError(field, "holds NaN or Infinity, which JSON cannot store") from None
    if "\\u0000" in encoded:
        raise RecordError(field, NUL_MESSAGE)
    return value


def gold_answer_from(value: object, field: str = "gold_answer") -> list[int] | None:
    """The shape of a gold answer; whether it fits the project is `rules.check_item`'s call."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise RecordError(field, f"must be a list of whole numbers (ranks or ratings by response position), not {describe(value)}")
    return value


def type_name(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def describe(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
