"""The Celery app: queue `default` for CPU work (imports, exports, flags), `gpu` for training.

    celery -A prefstack worker -Q default          # CPU hosts
    celery -A prefstack worker -Q gpu -c 1         # one per GPU host
    celery -A prefstack worker -Q default,gpu      # the embedded single-host setup
"""
import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prefstack.settings")

app = Celery("prefstack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("gpu"))
app.autodiscover_tasks()


@app.task(name="prefstack.ping")
def ping(payload: str = "pong") -> dict:
    """A trivial round trip that proves the broker, a worker and the result backend work."""
    import socket

    return {"payload": payload, "host": socket.gethostname(), "pid": os.getpid()}
