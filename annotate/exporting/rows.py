"""One item's output rows in the TRL layout the options ask for, as JSON lines or column values.

Standard rows hold strings; conversational rows hold `{"role", "content"}` messages (TRL's
conversational preference / prompt-completion formats). A chat prompt exported as a standard
string is rendered as "Role: content" turns, ending with "Assistant:" for the response.

Selections come from `pairs`: (chosen, rejected, margin, agreement) for pairs and
(best, agreement) for SFT. Prompt and responses are JSON-encoded (as UTF-8 bytes) once per item and the
lines assembled from the pieces: this is the export's inner loop.
"""
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

_encode_text = json.JSONEncoder(ensure_ascii=False).encode


def _encode(value) -> bytes:
    # Lines are built and written as bytes: a str line would be encoded again, row by row, on write.
    return _encode_text(value).encode()


class _NumberText(dict):
    """A margin or agreement -> its JSON text in bytes, kept: rows repeat a few values, and float repr is slow.

    `%s` of a float is its repr, which is what json writes; the values are floats, never ints
    (1 and 1.0 would share a key) nor -0.0 (`abs` and the tie margin make 0.0).
    """

    def __missing__(self, number: float) -> bytes:
        text = self[number] = str(number).encode()
        return text


@dataclass(frozen=True)
class Layout:
    kind: str
    number_columns: tuple[str, ...]
    conversational: bool

    @classmethod
    def for_options(cls, options) -> "Layout":
        numbers = ("margin",) if options.kind == "pairs" and options.include_margin else ()
        if options.include_agreement:
            numbers += ("agreement",)
        return cls(options.kind, numbers, options.format == "conversational")

    @property
    def text_columns(self) -> tuple[str, ...]:
        return ("chosen", "rejected") if self.kind == "pairs" else ("completion",)

    @property
    def columns(self) -> tuple[str, ...]:
        return ("prompt", *self.text_columns, *self.number_columns)

    @cached_property
    def json_template(self) -> bytes:
        return ("{" + ", ".join(f'"{name}": %s' for name in self.columns) + "}\n").encode()

    @cached_property
    def number_text(self):
        """Per layout, so one export's cache goes with it."""
        return _NumberText().__getitem__

    def prompt_value(self, prompt: str | list):
        if self.conversational:
            if isinstance(prompt, str):
                return [{"role": "user", "content": prompt}]
            return [{"role": message["role"], "content": message["content"]} for message in prompt]
        if isinstance(prompt, str):
            return prompt
        turns = [f"{message['role'].capitalize()}: {message['content']}" for message in prompt]
        return "\n\n".join([*turns, "Assistant:"])

    def completion_value(self, text: str):
        return [{"role": "assistant", "content": text}] if self.conversational else text


class ItemRows:
    def __init__(self, layout: Layout, split: str, prompt, responses: list[str], selections: list[tuple]):
        self.layout = layout
        self.split = split
        self.selections = selections
        self._prompt = prompt
        self._responses = responses

    @cached_property
    def prompt(self):
        return self.layout.prompt_value(self._prompt)

    @cached_property
    def completions(self) -> list:
        return [self.layout.completion_value(text) for text in self._responses]

    @cached_property
    def _encoded_prompt(self) -> bytes:
        return _encode(self.prompt)

    @cached_property
    def _encoded_completions(self) -> list[bytes]:
        return [_encode(value) for value in self.completions]

    def drop_duplicates(self, seen: set) -> int:
        """Leave out rows whose texts are already in `seen` (digests, updated); returns how many."""
        texts = len(self.layout.text_columns)
        kept = []
        for selection in self.selections:
            pieces = [self._encoded_prompt, *(self._encoded_completions[p] for p in selection[:texts])]
            key = hashlib.blake2b(b"\x1f".join(pieces), digest_size=12).digest()
            if key not in seen:
                seen.add(key)
                kept.append(selection)
        dropped = len(self.selections) - len(kept)
        self.selections = kept
        return dropped

    def json_lines(self) -> list[bytes]:
        return self._rows(self._encoded_prompt, self._encoded_completions, self.layout.json_template.__mod__, self.layout.number_text)

    def records(self) -> list[tuple]:
        return self._rows(self.prompt, self.completions, tuple, float)

    def _rows(self, prompt, texts, make, number) -> list:
        """`make` applied to each row's column values (numbers through `number`), spelled out per layout because this loop is hot."""
        numbers, rows = self.layout.number_columns, self.selections
        if self.layout.kind == "sft":
            if numbers:
                return [make((prompt, texts[best], number(agreement))) for best, agreement in rows]
            return [make((prompt, texts[best])) for best, _ in rows]
        if numbers == ("margin",):
            return [make((prompt, texts[chosen], texts[rejected], number(margin))) for chosen, rejected, margin, _ in rows]
        if numbers == ("margin", "agreement"):
            return [
                make((prompt, texts[chosen], texts[rejected], number(margin), number(agreement)))
                for chosen, rejected, margin, agreement in rows
            ]
        if numbers == ("agreement",):
            return [make((prompt, texts[chosen], texts[rejected], number(agreement))) for chosen, rejected, _, agreement in rows]
        return [make((prompt, texts[chosen], texts[rejected])) for chosen, rejected, _, _ in rows]
