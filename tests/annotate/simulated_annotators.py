"""Simulated annotators for the flag tests: honest ones (noisy copies of a hidden truth) and
planted bad ones, each knowing only what a person at the annotate page would see."""
from dataclasses import dataclass

import numpy as np

from annotate.bias import JudgementArrays

HONEST, POSITION, LENGTH, RANDOM, FAST = "honest", "position_bias", "length_bias", "random", "too_fast"
READING_CHARS_PER_SECOND = 50.0


@dataclass
class SimulatedAnnotator:
    kind: str
    accuracy: float  # how often an honest choice matches the hidden truth

    def pick(self, rng: np.random.Generator, truth: int, shown_order: list[int], lengths: list[int]) -> int:
        """The canonical position this annotator prefers."""
        if self.kind == POSITION and rng.random() < 0.8:
            return shown_order[0]
        if self.kind == LENGTH and rng.random() < 0.85:
            return int(np.argmax(lengths))
        if self.kind == RANDOM:
            return int(rng.integers(len(lengths)))
        if rng.random() < self.accuracy:
            return truth
        return int(rng.choice([p for p in range(len(lengths)) if p != truth]))

    def seconds(self, rng: np.random.Generator, lengths: list[int]) -> float:
        reading = sum(lengths) / READING_CHARS_PER_SECOND
        if self.kind == FAST:
            return reading * rng.uniform(0.15, 0.5)
        return 2.0 + reading * rng.lognormal(np.log(2.5), 0.4)


def pool(rng: np.random.Generator, honest: int, planted_each: int) -> list[SimulatedAnnotator]:
    """`honest` honest annotators (accuracy 78-92%) and `planted_each` of every planted kind."""
    kinds = [HONEST] * honest + [kind for kind in (POSITION, LENGTH, RANDOM, FAST) for _ in range(planted_each)]
    return [SimulatedAnnotator(kind, float(rng.uniform(0.78, 0.92))) for kind in kinds]


def ranks_for(pick: int, n_responses: int) -> list[int]:
    """A ranking with `pick` best and the rest in canonical order (pairwise: [1, 2] or [2, 1])."""
    ranks = [0] * n_responses
    for rank, position in enumerate([pick] + [p for p in range(n_responses) if p != pick], start=1):
        ranks[position] = rank
    return ranks


def simulate_arrays(
    rng: np.random.Generator, annotators: list[SimulatedAnnotator], n_items: int, overlap: int, n_responses: int = 2
) -> JudgementArrays:
    """Judgements as the queue would produce them, straight into arrays: each item judged by
    `overlap` distinct annotators, responses shown in a fresh random order each time."""
    lengths = rng.integers(100, 1500, size=(n_items, n_responses))
    truth = rng.integers(n_responses, size=n_items)
    rows = []
    for item in range(n_items):
        for annotator in rng.choice(len(annotators), size=overlap, replace=False):
            shown = [int(p) for p in rng.permutation(n_responses)]
            item_lengths = [int(v) for v in lengths[item]]
            behaviour = annotators[annotator]
            pick = behaviour.pick(rng, int(truth[item]), shown, item_lengths)
            rows.append((annotator, item, ranks_for(pick, n_responses), shown, behaviour.seconds(rng, item_lengths)))
    annotator, item, ranks, shown, seconds = zip(*rows)
    item = np.array(item)
    return JudgementArrays(
        annotator_ids=np.arange(len(annotators)),
        annotator=np.array(annotator),
        item=item,
        scores=-np.array(ranks, dtype=float),
        shown_order=np.array(shown),
        lengths=lengths[item].astype(float),
        seconds=np.array(seconds),
        gold_scores=np.full((len(item), n_responses), np.nan),
        unit="pairs" if n_responses == 2 else "rankings",
    )
