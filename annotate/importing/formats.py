"""The formats an import file can be in: each turns one record into item drafts.

- native: {"id"?, "prompt", "responses": [text | {"text", "model"?}], "metadata"?, "gold_answer"?}
  as JSON lines, a JSON array or CSV (see records.py for the CSV columns);
- hh-rlhf: Anthropic HH-RLHF {"chosen", "rejected"} transcripts;
- chat: {"id"?, "messages", "completions" | "choices", "metadata"?, "gold_answer"?};
- pandalm, wmt16, oasst: the public data sets of those names, as published.

A converter raises RecordError for a record it cannot use, and writes a note for anything it
had to cope with (a coerced value, a source record with nothing to rank).
"""
import re
from collections.abc import Callable, Iterator

from .drafts import (
    ItemDraft,
    RecordError,
    ResponseDraft,
    external_id_from,
    gold_answer_from,
    item_draft,
    messages_from,
    metadata_from,
    model_name_from,
    prompt_from,
    response_from,
    text_from,
    type_name,
)
from .records import Record

Converter = Callable[[Record, list[str]], Iterator[ItemDraft]]

NATIVE_FIELDS = ("id", "prompt", "responses", "metadata", "gold_answer")
HH_ROLES = {"\n\nHuman:": "user", "\n\nAssistant:": "assistant"}
HH_TURN = re.compile("(" + "|".join(map(re.escape, HH_ROLES)) + ")")
HH_REPLY = "\n\nAssistant:"


def native(record: Record, notes: list[str]) -> Iterator[ItemDraft]:
    data = _object(record)
    unknown = [key for key in data if key not in NATIVE_FIELDS]
    if unknown:
        raise RecordError(unknown[0], f"is not a field of the native format ({', '.join(NATIVE_FIELDS)})")
    if "prompt" not in data:
        raise RecordError("prompt", "is missing")
    yield item_draft(
        record.line,
        external_id=external_id_from(data.get("id")),
        prompt=prompt_from(data["prompt"]),
        responses=_responses(data, "responses", response_from),
        metadata=metadata_from(data.get("metadata")),
        gold_answer=gold_answer_from(data.get("gold_answer")),
    )


def chat(record: Record, notes: list[str]) -> Iterator[ItemDraft]:
    """OpenAI-style lines: the conversation so far and the candidate completions for its next turn."""
    data = _object(record)
    key = "completions" if "completions" in data else "choices"
    yield item_draft(
        record.line,
        external_id=external_id_from(data.get("id")),
        prompt=messages_from(_required(data, "messages"), "messages"),
        responses=_responses(data, key, _completion),
        metadata=metadata_from(data.get("metadata")),
        gold_answer=gold_answer_from(data.get("gold_answer")),
    )


def _completion(value: object, field: str) -> ResponseDraft:
    """A completion as text, {"content" | "text", "model"?}, or an OpenAI choice {"message": {"content"}}."""
    if isinstance(value, dict) and "message" in value:
        return _completion(value["message"], f"{field}.message")
    return response_from(value, field, text_key="content" if isinstance(value, dict) and "content" in value else "text")


def hh_rlhf(record: Record, notes: list[str]) -> Iterator[ItemDraft]:
    """The conversation both transcripts share becomes the prompt; what each says after it, the responses."""
    data = _object(record)
    chosen = text_from(_required(data, "chosen"), "chosen")
    rejected = text_from(_required(data, "rejected"), "rejected")
    shared = _shared_prefix_length(chosen, rejected)
    last_reply = chosen.rfind(HH_REPLY, 0, shared)
    if last_reply < 0:
        raise RecordError("rejected", "shares no conversation with 'chosen' before an assistant turn")
    reply_start = last_reply + len(HH_REPLY)
    yield item_draft(
        record.line,
        prompt=_hh_messages(chosen[:last_reply]),
        responses=[ResponseDraft(chosen[reply_start:].strip()), ResponseDraft(rejected[reply_start:].strip())],
        metadata={"source": "hh-rlhf", "source_ranks": [1, 2]},
    )


def _shared_prefix_length(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _hh_messages(transcript: str) -> list[dict]:
    """`\\n\\nHuman: ...\\n\\nAssistant: ...` turns as chat messages."""
    before, *turns = HH_TURN.split(transcript)
    if before.strip() or not turns:
        raise RecordError("chosen", "must be a transcript of '\\n\\nHuman:' and '\\n\\nAssistant:' turns")
    return [{"role": HH_ROLES[marker], "content": text.strip()} for marker, text in zip(turns[::2], turns[1::2])]


def pandalm(record: Record, notes: list[str]) -> Iterator[ItemDraft]:
    """PandaLM test set rows: instruction and input as the prompt, the two compared responses."""
    data = _object(record)
    idx = external_id_from(_required(data, "idx"), "idx")
    instruction = text_from(_required(data, "instruction"), "instruction")
    source_input = text_from(data.get("input", ""), "input")
    models = text_from(_required(data, "cmp_key"), "cmp_key").split("_", 1)
    responses = []
    for position, key in enumerate(("response1", "response2")):
        value = _required(data, key)
        if isinstance(value, bool):
            # Six published rows hold JSON booleans where a text answer belongs.
            notes.append(f"line {record.line}: {key} is the boolean {str(value).lower()}; imported as the text {str(value)!r}")
            value = str(value)
        responses.append(ResponseDraft(text_from(value, key), models[position] if len(models) == 2 else ""))
    yield item_draft(
        record.line,
        external_id=f"pandalm-{idx}",
        prompt=f"{instruction}\n\n{source_input}" if source_input.strip() else instruction,
        responses=responses,
        metadata={
            "source": "pandalm",
            "motivation_app": data.get("motivation_app"),
            "source_ranks_by_annotator": {
                name: _pandalm_ranks(data[name], name) for name in ("annotator1", "annotator2", "annotator3") if name in data
            },
        },
    )


def _pandalm_ranks(verdict: object, field: str) -> list[int]:
    ranks = {0: [1, 1], 1: [1, 2], 2: [2, 1]}.get(verdict) if isinstance(verdict, int) else None
    if ranks is None:
        raise RecordError(field, f"must be 0 (tie), 1 or 2 (the better response), not {verdict!r}")
    return ranks


def wmt16(record: Record, notes: list[str]) -> Iterator[ItemDraft]:
    """One WMT16 ranking: the systems' outputs for a source segment (system ids; the release has no text)."""
    data = _object(record)
    ranking_id = external_id_from(_required(data, "ranking_id"), "ranking_id")
    outputs = _required(data, "outputs")
    if not isinstance(outputs, list):
        raise RecordError("outputs", f"must be a list, not {type_name(outputs)}")
    if len(outputs) < 2:
        notes.append(f"line {record.line}: ranking {ranking_id} has {len(outputs)} distinct output(s), nothing to rank; skipped")
        return
    responses, ranks = [], []
    for index, output in enumerate(outputs):
        systems = output.get("systems") if isinstance(output, dict) else None
        if not isinstance(systems, list) or not systems or not all(isinstance(s, str) for s in systems):
            raise RecordError(f"outputs[{index}].systems", "must be a non-empty list of system ids")
        responses.append(ResponseDraft(" + ".join(systems), model_name_from(systems[0], f"outputs[{index}].systems")))
        ranks.append(output.get("rank"))
    segment = f"{data.get('srclang')}-{data.get('trglang')} segment {data.get('src_index')}"
    yield item_draft(
        record.line,
        external_id=f"wmt16-{ranking_id}",
        prompt=f"Rank the translations of WMT16 newstest {segment}.",
        responses=responses,
        metadata={
            "source": "wmt16",
            **{key: data.get(key) for key in ("srclang", "trglang", "src_index", "hit_id", "judge", "duration_s")},
            "source_ranks": ranks,
        },
    )


def oasst(record: Record, notes: list[str]) -> Iterator[ItemDraft]:
    """One OpenAssistant tree: an item for every prompter message with 2+ ranked assistant replies."""
    data = _object(record)
    root = _required(data, "prompt")
    if not isinstance(root, dict):
        raise RecordError("prompt", f"must be a message object, not {type_name(root)}")
    pending = [(root, [])]
    while pending:
        message, history = pending.pop()
        conversation = [*history, _oasst_message(message)]
        replies = message.get("replies") or []
        ranked = sorted(
            (r for r in replies if isinstance(r, dict) and r.get("rank") is not None and not r.get("deleted")),
            key=lambda reply: reply["rank"],
        )
        if message.get("role") == "prompter" and len(ranked) >= 2:
            yield item_draft(
                record.line,
                external_id=f"oasst-{message.get('message_id')}",
                prompt=conversation,
                responses=[
                    ResponseDraft(text_from(reply.get("text"), "text"), model_name_from(reply.get("model_name"), "model_name"))
                    for reply in ranked
                ],
                metadata={
                    "source": "oasst",
                    "message_tree_id": data.get("message_tree_id"),
                    "source_ranks": [reply["rank"] + 1 for reply in ranked],
                },
            )
        pending.extend((reply, conversation) for reply in reversed(replies) if isinstance(reply, dict))


def _oasst_message(message: dict) -> dict:
    role = {"prompter": "user", "assistant": "assistant"}.get(message.get("role"))
    if role is None:
        raise RecordError("role", f"must be 'prompter' or 'assistant', not {message.get('role')!r}")
    return {"role": role, "content": text_from(message.get("text"), "text")}


CONVERTERS: dict[str, Converter] = {
    "native": native,
    "hh-rlhf": hh_rlhf,
    "chat": chat,
    "pandalm": pandalm,
    "wmt16": wmt16,
    "oasst": oasst,
}
FORMATS = ("auto", *CONVERTERS)


def detect(record: Record) -> str:
    """The format a record's fields give away; RecordError when none fits."""
    data = _object(record)
    keys = set(data)
    if {"chosen", "rejected"} <= keys:
        return "hh-rlhf"
    if "messages" in keys and keys & {"completions", "choices"}:
        return "chat"
    if {"instruction", "response1", "response2"} <= keys:
        return "pandalm"
    if {"outputs", "src_index"} <= keys:
        return "wmt16"
    if "message_tree_id" in keys:
        return "oasst"
    if "prompt" in keys:
        return "native"
    raise RecordError("format", f"cannot tell the format from the fields {sorted(keys)}; choose one of {', '.join(CONVERTERS)}")


def _object(record: Record) -> dict:
    if not isinstance(record.data, dict):
        raise RecordError("record", f"must be a JSON object, not {type_name(record.data)}")
    return record.data


def _required(data: dict, key: str) -> object:
    if key not in data:
        raise RecordError(key, "is missing")
    return data[key]


def _responses(data: dict, key: str, parse: Callable[[object, str], ResponseDraft]) -> list[ResponseDraft]:
    values = _required(data, key)
    if not isinstance(values, list):
        raise RecordError(key, f"must be a list, not {type_name(values)}")
    return [parse(value, f"{key}[{index}]") for index, value in enumerate(values)]
