import pytest


@pytest.fixture(autouse=True)
def snapshot_dir(settings, tmp_path):
    """Each test's snapshots in their own folder."""
    settings.SNAPSHOT_DIR = tmp_path / "snapshots"
    return settings.SNAPSHOT_DIR


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The factories' users get a password; PBKDF2 costs seconds per user on a loaded machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
