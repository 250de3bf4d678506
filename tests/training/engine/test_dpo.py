from transformers import AutoModelForCausalLM

from training.engine.reporting import MemoryReporter
from tests.training.engine.conftest import train


def test_dpo_loss_falls_and_final_loads_as_a_causal_lm(tiny_model, marker_pairs, tmp_path):
    reporter = MemoryReporter()
    result = train("dpo", marker_pairs, tmp_path, reporter, base_model=tiny_model, learning_rate=1e-3,
                   max_steps=15, logging_steps=5, save_steps=15)
    losses = [loss for _, loss in reporter.series("loss")]
    assert result.outcome == "completed" and len(losses) == 3
    assert losses[-1] < losses[0]
    assert "eval_rewards/accuracies" in result.metrics
    assert AutoModelForCausalLM.from_pretrained(result.final_dir).config.num_hidden_layers == 2


def test_dpo_with_lora_saves_merged_weights(tiny_model, marker_pairs, tmp_path):
    result = train("dpo", marker_pairs, tmp_path, base_model=tiny_model, learning_rate=1e-3, max_steps=4,
                   save_steps=4, use_lora=True, lora_r=4)
    final_files = {path.name for path in result.final_dir.iterdir()}
    assert "model.safetensors" in final_files and "adapter_config.json" not in final_files
    AutoModelForCausalLM.from_pretrained(result.final_dir)
