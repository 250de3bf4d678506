"""Settings are read once at import, so each case imports them in a fresh interpreter."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST"), "port": db.get("PORT"), "user": db.get("USER"),
    "debug": settings.DEBUG, "secret": settings.SECRET_KEY, "hosts": settings.ALLOWED_HOSTS,
    "broker": settings.CELERY_BROKER_URL, "backend": settings.CELERY_RESULT_BACKEND,
    "data": str(settings.DATA_DIR), "snapshots": str(settings.SNAPSHOT_DIR), "max_import": settings.IMPORT_MAX_BYTES,
}))
"""


def load_settings(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "IMPORT_MAX_BYTES"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "prefstack.settings", "PREFSTACK_DATA_DIR": str(tmp_path / "data")}, **env)
    return subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + PROBE],
                          cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def settings_from(tmp_path, **env) -> dict:
    done = load_settings(tmp_path, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_local_defaults_need_no_services(tmp_path):
    values = settings_from(tmp_path)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(tmp_path / "data" / "prefstack.sqlite3")
    assert values["debug"] is True
    assert values["broker"] == "filesystem://"
    assert values["backend"].startswith("file://" + str(tmp_path / "data"))
    assert values["snapshots"] == str(tmp_path / "data" / "snapshots")
    assert "localhost" in values["hosts"]
    assert (tmp_path / "data" / "broker" / "out").is_dir()


def test_generated_secret_is_kept_between_starts(tmp_path):
    first = settings_from(tmp_path)["secret"]
    second = settings_from(tmp_path)["secret"]
    assert first == second and len(first) >= 50
    assert oct((tmp_path / "data" / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_production_values_come_from_the_environment(tmp_path):
    values = settings_from(
        tmp_path,
        DATABASE_URL="postgres://prefstack@db.internal:6543/prefs",
        CELERY_BROKER_URL="redis://cache.internal:6379/2",
        SECRET_KEY="s3cret-from-env",
        DEBUG="off",
        ALLOWED_HOSTS="prefs.example.org, www.prefs.example.org",
        IMPORT_MAX_BYTES="1048576",
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["host"], values["port"], values["user"], values["name"]) == ("db.internal", 6543, "prefstack", "prefs")
    assert values["broker"] == values["backend"] == "redis://cache.internal:6379/2"
    assert values["debug"] is False
    assert values["secret"] == "s3cret-from-env"
    assert values["hosts"] == ["prefs.example.org", "www.prefs.example.org"]
    assert values["max_import"] == 1048576


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    done = load_settings(tmp_path, DEBUG="0")
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in done.stderr
    assert not (tmp_path / "data" / "secret_key").exists()


@pytest.mark.parametrize(("name", "value", "message"), [
    ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
    ("IMPORT_MAX_BYTES", "lots", "IMPORT_MAX_BYTES='lots' is not a whole number"),
])
def test_malformed_values_are_refused_with_their_name(tmp_path, name, value, message):
    done = load_settings(tmp_path, **{name: value})
    assert done.returncode != 0
    assert message in done.stderr
