from transformers import AutoModelForCausalLM, AutoTokenizer

from training.engine.tiny import MARKER, marker_pairs, resolve_model_path, tiny_model_path


def test_tiny_resolves_to_a_cached_model_with_a_chat_tokenizer(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFSTACK_TINY_DIR", str(tmp_path))
    path = tiny_model_path()
    built_at = (path / "config.json").stat().st_mtime_ns
    assert resolve_model_path("tiny") == str(path) and resolve_model_path("/models/x") == "/models/x"
    assert (tiny_model_path() / "config.json").stat().st_mtime_ns == built_at  # cached, not rebuilt

    tokenizer = AutoTokenizer.from_pretrained(path)
    assert (tokenizer.pad_token, tokenizer.eos_token) == ("<pad>", "</s>")
    assert len(tokenizer.tokenize(" " + MARKER)) == 1
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                         add_generation_prompt=True)
    assert chat == "<|user|>\nhi</s>\n<|assistant|>\n"
    text = " apple river\n{code}: ünïcode"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text  # byte-level: nothing is unknown
    model = AutoModelForCausalLM.from_pretrained(path)
    assert (model.config.hidden_size, model.config.num_hidden_layers) == (64, 2)


def test_marker_pairs_differ_only_by_the_marker():
    for row in marker_pairs(20, seed=3):
        chosen, rejected = row["chosen"].split(), row["rejected"].split()
        assert len(chosen) == len(rejected) and MARKER in chosen and MARKER not in rejected
        assert sum(a != b for a, b in zip(chosen, rejected)) == 1
    assert marker_pairs(5, seed=1) == marker_pairs(5, seed=1)
