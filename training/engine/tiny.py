"""A tiny random Llama-style model with a locally trained tokenizer, and a learnable toy task.

Everything here is built offline in seconds, so tests, benchmarks and the demo train real
models end to end without downloading anything. base_model "tiny" resolves to
`tiny_model_path()`, built on first use and cached.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from pathlib import Path

TINY_MODEL_NAME = "tiny"
TINY_VERSION = 1
MARKER = "banana"
WORDS = (
    "apple river stone cloud green quiet table window music garden light paper bright "
    "ocean forest simple yellow silver morning evening happy little summer winter bread "
    "yes no the a is of and to in it that this with for on was are"
).split()
TOPICS = "cats weather school travel cooking music sports books gardens rivers".split()
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
_CORPUS = (
    "The quick brown fox jumps over the lazy dog. Please answer the question briefly and politely. "
    "Here is a short summary of the text above. I think the second response is better because it is "
    "clearer, more helpful and more accurate. def main():\n    return 0\n"
)


def _training_corpus() -> list[str]:
    rng = random.Random(0)
    lines = [_CORPUS] * 20
    lines += [" ".join(rng.choices(WORDS + [MARKER] + TOPICS, k=12)) for _ in range(400)]
    lines += [f"<|user|>\nTell me about {topic}.</s>\n<|assistant|>\n" for topic in TOPICS] * 10
    return lines


def build_tokenizer(path: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512, special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tokenizer.train_from_iterator(_training_corpus(), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        model_max_length=512, chat_template=CHAT_TEMPLATE,
    )
    fast.save_pretrained(path)
    return fast


def build_tiny_model(path, *, seed: int = 0) -> Path:
    """Write a random 2-layer Llama (hidden 64) and its tokenizer to `path`; returns the path."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(path)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model.save_pretrained(path)
    return path


def tiny_model_path() -> Path:
    """The cached tiny model (PREFSTACK_TINY_DIR or ~/.cache/prefstack), built if missing."""
    cache = Path(os.environ.get("PREFSTACK_TINY_DIR", Path.home() / ".cache" / "prefstack"))
    target = cache / f"tiny-v{TINY_VERSION}"
    if (target / "config.json").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename, so a concurrent process never sees half a folder.
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=".tiny-"))
    build_tiny_model(staging)
    try:
        staging.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model_path(name_or_path: str) -> str:
    return str(tiny_model_path()) if name_or_path == TINY_MODEL_NAME else name_or_path


def marker_pairs(n: int, *, seed: int = 0) -> list[dict]:
    """Preference pairs where the chosen response is the rejected one with MARKER swapped in.

    Both responses have the same length and differ in one word, so a model can only rank
    them by learning the marker.
    """
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        rejected = rng.choices(WORDS, k=rng.randint(4, 8))
        chosen = list(rejected)
        chosen[rng.randrange(len(chosen))] = MARKER
        rows.append({
            "prompt": f"Tell me about {rng.choice(TOPICS)}.",
            "chosen": " " + " ".join(chosen),
            "rejected": " " + " ".join(rejected),
        })
    return rows


def write_marker_dataset(folder, *, n_train: int = 256, n_test: int = 64, kind: str = "pairs",
                         seed: int = 0) -> Path:
    """A snapshot-shaped folder (jsonl/train.jsonl, jsonl/test.jsonl) of the marker task.

    kind "sft" writes {"prompt", "completion"} demonstrations, half of them with the marker:
    a policy tuned on them says it sometimes, which PPO can then reinforce.
    """
    folder = Path(folder)
    (folder / "jsonl").mkdir(parents=True, exist_ok=True)
    rows = marker_pairs(n_train + n_test, seed=seed)
    if kind == "sft":
        rows = [{"prompt": row["prompt"], "completion": row["chosen" if number % 2 else "rejected"]}
                for number, row in enumerate(rows)]
    for split, part in (("train", rows[:n_train]), ("test", rows[n_train:])):
        with open(folder / "jsonl" / f"{split}.jsonl", "w") as out:
            out.writelines(json.dumps(row) + "\n" for row in part)
    return folder
