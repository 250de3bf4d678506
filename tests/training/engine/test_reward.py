import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

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
