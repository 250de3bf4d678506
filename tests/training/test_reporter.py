from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import RunFactory
from training.models import Run, RunMetric
from training.reporter import RunReporter

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    return RunFactory(status=Run.Status.RUNNING)


def test_each_logging_step_becomes_a_metric_row_with_non_finite_values_as_null(run, tmp_path):
    reporter = RunReporter(run, log_file=tmp_path / "train.log")
    reporter.log(10, {"loss": 0.5, "accuracy": 1})
    reporter.log(20, {"loss": float("nan"), "kl": float("inf")})
    reporter.close()
    rows = list(RunMetric.objects.filter(run=run).values_list("step", "values"))
    assert rows == [(10, {"loss": 0.5, "accuracy": 1.0}), (20, {"loss": None, "kl": None})]


def test_text_goes_to_the_log_file_and_the_last_lines_to_the_row(run, tmp_path, settings):
    settings.TRAINING_LOG_TAIL_LINES = 3
    reporter = RunReporter(run, log_file=tmp_path / "logs" / "train.log")
    for number in range(5):
        reporter.text(f"line {number}")
    reporter.text("two\nlines")
    reporter.close()
    run.refresh_from_db()
    assert run.log_tail == "line 4\ntwo\nlines"
    assert (tmp_path / "logs" / "train.log").read_text().splitlines() == [*(f"line {n}" for n in range(5)), "two", "lines"]


def test_should_stop_answers_the_cancel_request(run, tmp_path):
    reporter = RunReporter(run, log_file=tmp_path / "train.log")
    assert not reporter.should_stop()
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert reporter.should_stop()
    assert reporter.stop_reason == "cancelled"
    reporter.close()


def test_should_stop_once_the_time_limit_is_reached(run, tmp_path):
    reporter = RunReporter(run, log_file=tmp_path / "train.log", deadline=timezone.now() - timedelta(seconds=1))
    assert reporter.should_stop()
    assert reporter.stop_reason == "time limit"
    reporter.close()
