"""TRL's RewardTrainer and DPOTrainer take a snapshot's files as they are: one step on a tiny local model."""
import pytest

pytest.importorskip("trl")

import datasets  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers, trainers  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification, PreTrainedTokenizerFast  # noqa: E402
from trl import DPOConfig, DPOTrainer, RewardConfig, RewardTrainer  # noqa: E402

from annotate.export import create_snapshot  # noqa: E402
from annotate.models import TaskMode  # noqa: E402
from tests.factories import ItemFactory, ProjectFactory, annotators_of, judgement_of  # noqa: E402

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)


def tiny_tokenizer(texts) -> PreTrainedTokenizerFast:
    """A word-level tokenizer trained on the snapshot's own texts: no hub access."""
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["<pad>", "<unk>", "<s>", "</s>"]))
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>",
        chat_template=CHAT_TEMPLATE,
    )


def tiny_config(tokenizer, **extra) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, **extra,
    )


@pytest.fixture
def snapshot_of(tmp_path):
    """A snapshot of a small ranking project, in the format asked for."""
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    users = annotators_of(project, 2)
    for _ in range(4):
        item = ItemFactory(project=project)
        for user in users:
            judgement_of(item, user, ranks=[1, 2, 3, 4])

    def make(format: str):
        return create_snapshot(project, options={"format": format, "test_fraction": 0.0, "file_formats": ["jsonl", "hf"]})

    torch.manual_seed(0)
    torch.set_num_threads(1)
    return make


def training_args(config_class, tmp_path, **extra):
    return config_class(
        output_dir=str(tmp_path / "out"), max_steps=1, per_device_train_batch_size=2, learning_rate=1e-3,
        report_to=[], save_strategy="no", logging_steps=1, use_cpu=True, max_length=64, dataloader_num_workers=0,
        **extra,
    )


def jsonl_train_split(snapshot, tmp_path):
    return datasets.load_dataset(
        "json", data_files=str(snapshot.path / "jsonl" / "train.jsonl"), split="train", cache_dir=str(tmp_path / "cache")
    )


def all_texts(dataset):
    def text(value):
        return value if isinstance(value, str) else " ".join(f"{m['role']}: {m['content']}" for m in value)

    return [text(row[column]) for row in dataset for column in ("prompt", "chosen", "rejected")]


@pytest.mark.parametrize("format", ["standard", "conversational"])
def test_reward_trainer_takes_the_jsonl_with_margins(format, snapshot_of, tmp_path):
    dataset = jsonl_train_split(snapshot_of(format), tmp_path)
    assert "margin" in dataset.column_names
    tokenizer = tiny_tokenizer(all_texts(dataset))
    model = LlamaForSequenceClassification(tiny_config(tokenizer, num_labels=1))
    trainer = RewardTrainer(
        model=model, args=training_args(RewardConfig, tmp_path), train_dataset=dataset, processing_class=tokenizer
    )
    result = trainer.train()
    assert result.global_step == 1 and torch.isfinite(torch.tensor(result.training_loss))


@pytest.mark.parametrize("format", ["standard", "conversational"])
def test_dpo_trainer_takes_the_hf_folder(format, snapshot_of, tmp_path):
    dataset = datasets.load_from_disk(str(snapshot_of(format).path / "hf"))["train"]
    tokenizer = tiny_tokenizer(all_texts(dataset))
    model, reference = (LlamaForCausalLM(tiny_config(tokenizer)) for _ in range(2))
    trainer = DPOTrainer(
        model=model, ref_model=reference, args=training_args(DPOConfig, tmp_path), train_dataset=dataset,
        processing_class=tokenizer,
    )
    result = trainer.train()
    assert result.global_step == 1 and torch.isfinite(torch.tensor(result.training_loss))
