import torch
from datasets import Dataset
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from trl import RewardConfig, RewardTrainer

from training.engine.data import read_jsonl
from training.engine.tiny import marker_pairs


def test_reward_model_learns_the_marker_to_high_test_accuracy(reward_run):
    result, reporter = reward_run
    assert result.outcome == "completed" and result.step == 40
    assert result.metrics["eval_accuracy"] >= 0.9
    losses = [loss for _, loss in reporter.series("loss")]
    assert losses[-1] < losses[0]


def test_final_reward_model_loads_with_transformers_and_prefers_the_marker(reward_run):
    result, _ = reward_run
    model = AutoModelForSequenceClassification.from_pretrained(result.final_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(result.final_dir)
    pairs = marker_pairs(32, seed=99)
    texts = [row["prompt"] + row[side] + tokenizer.eos_token for row in pairs for side in ("chosen", "rejected")]
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        scores = model(**batch).logits.squeeze(-1).view(-1, 2)
    assert (scores[:, 0] > scores[:, 1]).float().mean() >= 0.9


def test_checkpoints_are_written_every_save_steps(reward_run):
    result, _ = reward_run
    output_dir = result.final_dir.parent
    assert {path.name for path in output_dir.glob("checkpoint-*")} == {"checkpoint-20", "checkpoint-40"}


def test_the_engine_trains_what_a_bare_trl_reward_trainer_trains_bit_for_bit(reward_run, tiny_model, marker_pairs,
                                                                             tmp_path):
    """Same data, arguments and seed, same weights to the last bit: the engine adds nothing to TRL's
    training work (tokenising, padding, batches, optimiser), so its speed is TRL's."""
    args = RewardConfig(output_dir=str(tmp_path), learning_rate=1e-3, max_steps=40, per_device_train_batch_size=16,
                        max_length=64, seed=0, bf16=False, use_cpu=not torch.cuda.is_available(),
                        save_strategy="no", report_to="none", disable_tqdm=True)
    bare = RewardTrainer(model=tiny_model, args=args, processing_class=AutoTokenizer.from_pretrained(tiny_model),
                         train_dataset=Dataset.from_list(read_jsonl(marker_pairs / "jsonl" / "train.jsonl")))
    bare.train()
    bare_weights = bare.model.state_dict()
    engine_weights = load_file(reward_run[0].final_dir / "model.safetensors")
    assert engine_weights.keys() <= bare_weights.keys()
    assert all(torch.equal(tensor, bare_weights[name].cpu()) for name, tensor in engine_weights.items())
