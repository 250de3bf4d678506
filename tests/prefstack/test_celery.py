import pytest

from prefstack.celery import app, ping

pytestmark = pytest.mark.worker


def test_a_task_round_trips_through_a_real_worker(celery_worker_process):
    result = ping.delay("hello")
    reply = result.get(timeout=60)
    assert reply["payload"] == "hello"
    assert reply["pid"] != __import__("os").getpid()


def test_both_queues_are_served(celery_worker_process):
    replies = [ping.apply_async(args=[queue], queue=queue).get(timeout=60) for queue in ("default", "gpu")]
    assert [reply["payload"] for reply in replies] == ["default", "gpu"]


def test_app_declares_the_default_and_gpu_queues():
    assert {queue.name for queue in app.conf.task_queues} == {"default", "gpu"}
