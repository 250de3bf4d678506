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
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from json.encoder import encode_basestring
from typing import Callable, NamedTuple

_encode_text = json.JSONEncoder(ensure_ascii=False).encode


def _encode(value) -> bytes:
    # Lines are built and written as bytes: a str line would be encoded again, row by row, on write.
    # Most values are str, for which the encoder runs encode_basestring: called here without its frame.
    return (encode_basestring(value) if type(value) is str else _encode_text(value)).encode()


class _NumberText(dict):
    """A margin or agreement -> its JSON text in bytes and the line's text after it, kept: rows
    repeat a few values, and float repr is slow.

    `%s` of a float is its repr, which is what json writes; the values are floats, never ints
    (1 and 1.0 would share a key) nor -0.0 (`abs` and the tie margin make 0.0).
    """

    def __init__(self, after: bytes):
        super().__init__()
        self._after = after

    def __missing__(self, number: float) -> bytes:
        text = self[number] = str(number).encode() + self._after
        return text


class JsonPieces(NamedTuple):
    """A layout's JSON line cut where the values go: a pair's line is
    `before_prompt + prompt + after_prompt + chosen + after_first + rejected + after_second + margin(m) + agreement(a)`,
    an SFT line the same without the rejected text and margin. A margin the layout leaves out gives
    b""; a left-out agreement is None, as most layouts have none and its lookup would cost every row."""

    before_prompt: bytes
    after_prompt: bytes
    after_first: bytes
    after_second: bytes | None
    margin: Callable[[float], bytes]
    agreement: Callable[[float], bytes] | None


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
    def json_pieces(self) -> JsonPieces:
        """Per layout, so one export's number cache goes with it."""
        template = "{" + ", ".join(f'"{name}": %s' for name in self.columns) + "}\n"
        fragments = template.encode().split(b"%s")  # fragments[i + 1] follows column i

        def number(name):
            if name in self.number_columns:
                return _NumberText(fragments[self.columns.index(name) + 1]).__getitem__
            return None

        second = fragments[3] if self.kind == "pairs" else None
        margin = number("margin") or defaultdict(bytes).__getitem__
        return JsonPieces(fragments[0], fragments[1], fragments[2], second, margin, number("agreement"))

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
    """One item's rows. Values and their JSON encodings are made on first use and kept, by hand
    rather than with cached_property, whose lock costs more than the work for a small item."""

    def __init__(self, layout: Layout, split: str, prompt, responses: list[str], selections: list[tuple]):
        self.layout = layout
        self.split = split
        self.selections = selections
        self._prompt = prompt
        self._responses = responses
        self._values = None
        self._encoded = None

    def values(self) -> tuple:
        """(prompt, [completion per response]) as the layout writes them."""
        if self._values is None:
            completion_value = self.layout.completion_value
            self._values = (self.layout.prompt_value(self._prompt), [completion_value(text) for text in self._responses])
        return self._values

    def _encodings(self) -> tuple[bytes, list[bytes]]:
        if self._encoded is None:
            prompt, completions = self.values()
            self._encoded = (_encode(prompt), [_encode(value) for value in completions])
        return self._encoded

    def drop_duplicates(self, seen: set) -> int:
        """Leave out rows whose texts are already in `seen` (digests, updated); returns how many."""
        texts = len(self.layout.text_columns)
        prompt, completions = self._encodings()
        kept = []
        for selection in self.selections:
            pieces = [prompt, *(completions[p] for p in selection[:texts])]
            key = hashlib.blake2b(b"\x1f".join(pieces), digest_size=12).digest()
            if key not in seen:
                seen.add(key)
                kept.append(selection)
        dropped = len(self.selections) - len(kept)
        self.selections = kept
        return dropped

    def json_lines(self) -> list[bytes]:
        """The rows as JSON lines, from the item's encoded texts cut into the layout's pieces: each
        line is three or four concatenations, this being the export's inner loop."""
        pieces = self.layout.json_pieces
        prompt, texts = self._encodings()
        lead = pieces.before_prompt + prompt + pieces.after_prompt
        firsts = [lead + text + pieces.after_first for text in texts]
        agreement, rows = pieces.agreement, self.selections
        if pieces.after_second is None:
            if agreement is None:
                return [firsts[best] for best, _ in rows]
            return [firsts[best] + agreement(share) for best, share in rows]
        seconds = [text + pieces.after_second for text in texts]
        margin = pieces.margin
        if agreement is None:
            return [firsts[chosen] + seconds[rejected] + margin(m) for chosen, rejected, m, _ in rows]
        return [firsts[chosen] + seconds[rejected] + margin(m) + agreement(a) for chosen, rejected, m, a in rows]

    def records(self) -> list[tuple]:
        """Column values of each row, spelled out per layout because this loop is hot."""
        prompt, texts = self.values()
        numbers, rows = self.layout.number_columns, self.selections
        if self.layout.kind == "sft":
            if numbers:
                return [(prompt, texts[best], agreement) for best, agreement in rows]
            return [(prompt, texts[best]) for best, _ in rows]
        if numbers == ("margin",):
            return [(prompt, texts[chosen], texts[rejected], margin) for chosen, rejected, margin, _ in rows]
        if numbers == ("margin", "agreement"):
            return [(prompt, texts[chosen], texts[rejected], margin, agreement) for chosen, rejected, margin, agreement in rows]
        if numbers == ("agreement",):
            return [(prompt, texts[chosen], texts[rejected], agreement) for chosen, rejected, _, agreement in rows]
        return [(prompt, texts[chosen], texts[rejected]) for chosen, rejected, _, _ in rows]
