from tests.factories import finished_checkpoint
from training.engine.checkpoints import checkpoint_dir, last_checkpoint


def test_last_checkpoint_orders_by_step_number_not_by_name(tmp_path):
    assert last_checkpoint(tmp_path / "missing") is None
    assert last_checkpoint(tmp_path) is None
    for step in (20, 100, 9):
        finished_checkpoint(tmp_path, step)
    (tmp_path / "checkpoint-final-notes").mkdir()
    (tmp_path / "checkpoint-500").write_text("a file, not a checkpoint")
    assert last_checkpoint(tmp_path) == tmp_path / "checkpoint-100"


def test_a_checkpoint_a_killed_worker_left_half_written_is_passed_over(tmp_path):
    finished_checkpoint(tmp_path, 10)
    checkpoint_dir(tmp_path, 20).mkdir()
    (checkpoint_dir(tmp_path, 20) / "model.safetensors").write_bytes(b"weights, then the kill")
    torn = checkpoint_dir(tmp_path, 30)
    torn.mkdir()
    (torn / "trainer_state.json").write_text('{"global_st')
    assert last_checkpoint(tmp_path) == tmp_path / "checkpoint-10"
