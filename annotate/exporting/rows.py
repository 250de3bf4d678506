"""One item's output rows in the TRL layout the options ask for, as JSON lines or column values.

Standard rows hold strings; conversational rows hold `{"role", "content"}` messages (TRL's
conversational preference / prompt-completion formats). A chat prompt exported as a standard
string is rendered as "Role: content" turns, ending with "Assistant:" for the response.
"""
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

PAIR_TEXT_COLUMNS = ("chosen", "rejected")
SFT_TEXT_COLUMNS = ("completion",)


@dataclass(frozen=True)
class Layout:
    text_columns: tuple[str, ...]
    number_columns: tuple[str, ...]
    conversational: bool

    @classmethod
    def for_options(cls, options) -> "Layout":
        numbers = []
        if options.kind == "pairs" and options.include_margin:
            numbers.append("margin")
        if options.include_agreement:
            numbers.append("agreement")
        text = PAIR_TEXT_COLUMNS if options.kind == "pairs" else SFT_TEXT_COLUMNS
        return cls(text, tuple(numbers), options.format == "conversational")

    @property
    def columns(self) -> tuple[str, ...]:
        return ("prompt", *self.text_columns, *self.number_columns)

    @cached_property
    def json_template(self) -> str:
        fields = ['"prompt": %s', *(f'"{name}": %s' for name in self.text_columns), *(f'"{name}": %r' for name in self.number_columns)]
        return "{" + ", ".join(fields) + "}\n"

    def selection_values(self, selection: tuple) -> tuple:
        """A selection is (response positions, margin, agreement): keep what this layout shows."""
        positions, margin, agreement = selection
        numbers = {"margin": margin, "agreement": agreement}
        return positions, tuple(numbers[name] for name in self.number_columns)

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
        self.prompt = layout.prompt_value(prompt)
        self.completions = [layout.completion_value(text) for text in responses]
        self.rows = [layout.selection_values(selection) for selection in selections]

    @cached_property
    def _encoded_prompt(self) -> str:
        return json.dumps(self.prompt, ensure_ascii=False)

    @cached_property
    def _encoded_completions(self) -> list[str]:
        return [json.dumps(value, ensure_ascii=False) for value in self.completions]

    def drop_duplicates(self, seen: set) -> int:
        """Leave out rows whose texts are already in `seen` (digests, updated); returns how many."""
        kept = []
        for positions, numbers in self.rows:
            key = hashlib.blake2b(
                "\x1f".join([self._encoded_prompt, *(self._encoded_completions[p] for p in positions)]).encode(), digest_size=12
            ).digest()
            if key not in seen:
                seen.add(key)
                kept.append((positions, numbers))
        dropped = len(self.rows) - len(kept)
        self.rows = kept
        return dropped

    def json_lines(self) -> list[str]:
        template, prompt, encoded = self.layout.json_template, self._encoded_prompt, self._encoded_completions
        return [template % (prompt, *[encoded[p] for p in positions], *numbers) for positions, numbers in self.rows]

    def records(self) -> list[tuple]:
        prompt, completions = self.prompt, self.completions
        return [(prompt, *(completions[p] for p in positions), *numbers) for positions, numbers in self.rows]
