import pytest


@pytest.fixture(autouse=True)
def snapshot_dir(settings, tmp_path):
    """Each test's snapshots in their own folder."""
    settings.SNAPSHOT_DIR = tmp_path / "snapshots"
    return settings.SNAPSHOT_DIR

