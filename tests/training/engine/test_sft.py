from transformers import AutoModelForCausalLM, AutoTokenizer


def test_sft_loss_falls_and_final_generates_the_demonstrated_words(sft_run):
    result, reporter = sft_run
    losses = [loss for _, loss in reporter.series("loss")]
    assert result.outcome == "completed" and len(losses) == 4
    assert losses[-1] < losses[0] - 1
    assert result.metrics["eval_loss"] < losses[0]

    model = AutoModelForCausalLM.from_pretrained(result.final_dir)
    tokenizer = AutoTokenizer.from_pretrained(result.final_dir)
    prompt = tokenizer(["Tell me about cats."], return_tensors="pt")
    output = model.generate(**prompt, max_new_tokens=6, do_sample=False)
    assert tokenizer.decode(output[0, prompt["input_ids"].shape[1]:]).strip()
