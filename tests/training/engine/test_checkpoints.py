from training.engine.checkpoints import checkpoint_dir, last_checkpoint


def test_last_checkpoint_orders_by_step_number_not_by_name(tmp_path):
    assert last_checkpoint(tmp_path / "missing") is None
    assert last_checkpoint(tmp_path) is None
    for step in (20, 100, 9):
        checkpoint_dir(tmp_path, step).mkdir()
    (tmp_path / "checkpoint-final-notes").mkdir()
    (tmp_path / "checkpoint-500").write_text("a file, not a checkpoint")
    assert last_checkpoint(tmp_path) == tmp_path / "checkpoint-100"
