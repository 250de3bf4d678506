from transformers import AutoModelForCausalLM

from training.engine.reporting import MemoryReporter
from tests.training.engine.conftest import train


def test_sft_loss_falls_and_final_loads_as_a_causal_lm(tiny_model, marker_sft, tmp_path):
    reporter = MemoryReporter()
    result = train("sft", marker_sft, tmp_path, reporter, base_model=tiny_model, learning_rate=1e-3,
                   max_steps=15, logging_steps=5, save_steps=15)
    losses = [loss for _, loss in reporter.series("loss")]
    assert result.outcome == "completed" and len(losses) == 3
    assert losses[-1] < losses[0]
    assert result.metrics["eval_loss"] < losses[0]
    AutoModelForCausalLM.from_pretrained(result.final_dir)
