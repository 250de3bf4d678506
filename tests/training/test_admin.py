import os
import socket

import pytest
from django.urls import reverse
from django.utils import timezone

from annotate.models import Snapshot
from tests.factories import ProjectFactory, RunFactory, finished_checkpoint
from training.models import Run, RunMetric

pytestmark = pytest.mark.django_db

Status = Run.Status
LAUNCH = reverse("admin:training_run_launch")


def launch_form(**fields):
    return {"kind": "reward", "preset": "cpu-smoke", "config_overrides": "{}", **fields}


def test_the_run_list_links_to_the_launch_form(admin_client):
    page = admin_client.get(reverse("admin:training_run_changelist"))
    assert LAUNCH in page.content.decode()
    assert "cpu-smoke" in admin_client.get(LAUNCH).content.decode()


def test_launching_queues_a_run_and_opens_its_page(admin_client, admin_user, pairs_file, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        reply = admin_client.post(LAUNCH, launch_form(dataset_path=str(pairs_file), config_overrides='{"max_steps": 12}'))
    run = Run.objects.get()
    assert reply.status_code == 302 and reply["Location"] == reverse("admin:training_run_change", args=[run.pk])
    assert (run.status, run.config["max_steps"], run.created_by) == (Status.QUEUED, 12, admin_user)
    assert len(callbacks) == 1


def test_bad_hyperparameters_are_shown_beside_their_fields_and_nothing_is_queued(admin_client, pairs_file):
    reply = admin_client.post(LAUNCH, launch_form(
        dataset_path=str(pairs_file), base_model=" ", config_overrides='{"learning_rate": 0, "lora_dropout": 2}',
    ))
    assert reply.status_code == 200
    errors = reply.context["form"].errors
    assert "learning_rate: must be greater than 0" in errors["config_overrides"]
    assert "lora_dropout: must be at least 0 and below 1" in errors["config_overrides"]
    assert "Nothing was queued" in reply.content.decode()
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"config_overrides": "{not json"}, "config_overrides", "Enter a valid JSON"),
        ({"config_overrides": "[1, 2]"}, "config_overrides", "JSON object"),
        ({"dataset_path": ""}, "dataset_path", "choose a snapshot"),
        ({"dataset_path": "/missing.jsonl"}, "dataset_path", "does not exist"),
        ({"kind": "ppo", "preset": "full-small"}, "preset", "no preset 'full-small' for ppo runs"),
    ],
)
def test_bad_launch_input_is_refused_with_a_message(admin_client, pairs_file, fields, field, words):
    reply = admin_client.post(LAUNCH, launch_form(**{"dataset_path": str(pairs_file), **fields}))
    assert reply.status_code == 200
    assert any(words in message for message in reply.context["form"].errors[field])
    assert not Run.objects.exists()


def test_the_run_page_shows_facts_charts_log_and_polls_while_active(admin_client):
    run = RunFactory(status=Status.RUNNING, log_tail="step 10 loss 0.69\nstep 20 loss 0.41",
                     worker_host=socket.gethostname(), worker_pid=os.getpid(), heartbeat_at=timezone.now())
    for step, loss in [(10, 0.69), (20, 0.41), (30, 0.2)]:
        RunMetric.objects.create(run=run, step=step, values={"loss": loss, "eval_accuracy": step / 30})
    page = admin_client.get(reverse("admin:training_run_change", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page and reverse("admin:training_run_live", args=[run.pk]) in page
    assert page.count("<polyline") == 2 and "step 20 loss 0.41" in page
    assert "Cancel run" in page and "htmx" in page


def test_the_live_partial_stops_polling_once_the_run_has_ended(admin_client):
    run = RunFactory(status=Status.SUCCEEDED, final_step=30)
    RunMetric.objects.create(run=run, step=30, values={"loss": 0.1})
    partial = admin_client.get(reverse("admin:training_run_live", args=[run.pk])).content.decode()
    assert partial.lstrip().startswith('<section id="run-live"') and "hx-trigger" not in partial
    assert "<polyline" in partial and "Succeeded" in partial


def test_the_live_partial_settles_a_run_whose_worker_is_gone(admin_client):
    run = RunFactory(status=Status.RUNNING, worker_host="gpu-gone", worker_pid=1, heartbeat_at=None)
    partial = admin_client.get(reverse("admin:training_run_live", args=[run.pk])).content.decode()
    assert "Failed" in partial and "Worker lost" in partial


def test_cancel_button_cancels_a_queued_run(admin_client):
    run = RunFactory()
    reply = admin_client.post(reverse("admin:training_run_cancel", args=[run.pk]), follow=True)
    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert f"Cancel requested for {run}" in reply.content.decode()


def test_actions_that_do_not_apply_say_why(admin_client):
    run = RunFactory(status=Status.SUCCEEDED)
    reply = admin_client.post(reverse("admin:training_run_cancel", args=[run.pk]), follow=True)
    assert "only queued or running runs can be cancelled" in reply.content.decode()
    reply = admin_client.post(reverse("admin:training_run_resume", args=[run.pk]), follow=True)
    assert "no checkpoint to resume from" in reply.content.decode()


def test_actions_accept_only_post(admin_client):
    run = RunFactory()
    assert admin_client.get(reverse("admin:training_run_cancel", args=[run.pk])).status_code == 405
    assert Run.objects.get(pk=run.pk).status == Status.QUEUED


def test_retry_button_launches_a_copy(admin_client, pairs_file):
    run = RunFactory(status=Status.FAILED, dataset_path=str(pairs_file))
    reply = admin_client.post(reverse("admin:training_run_retry", args=[run.pk]))
    copy = Run.objects.exclude(pk=run.pk).get()
    assert reply["Location"] == reverse("admin:training_run_change", args=[copy.pk])
    assert copy.status == Status.QUEUED


def test_resume_button_requeues_a_run_with_a_checkpoint(admin_client, settings, tmp_path):
    settings.RUNS_DIR = tmp_path
    run = RunFactory(status=Status.CANCELLED)
    finished_checkpoint(run.output_path, 5)
    page = admin_client.get(reverse("admin:training_run_change", args=[run.pk])).content.decode()
    assert "Resume from last checkpoint" in page
    admin_client.post(reverse("admin:training_run_resume", args=[run.pk]))
    run.refresh_from_db()
    assert (run.status, run.resume_requested) == (Status.QUEUED, True)


def test_compare_overlays_two_runs_curves(admin_client):
    first, second = RunFactory(status=Status.SUCCEEDED), RunFactory(status=Status.SUCCEEDED)
    for run, losses in [(first, [0.7, 0.5, 0.3]), (second, [0.7, 0.6, 0.55])]:
        for step, loss in enumerate(losses):
            RunMetric.objects.create(run=run, step=step * 10, values={"loss": loss})
    page = admin_client.get(reverse("admin:training_run_compare"), {"run": [first.pk, second.pk]}).content.decode()
    assert page.count("<polyline") == 2
    assert 'class="series-1"' in page and 'class="series-2"' in page


def test_compare_needs_two_runs(admin_client):
    reply = admin_client.get(reverse("admin:training_run_compare"), {"run": [RunFactory().pk]}, follow=True)
    assert "Choose two runs to compare." in reply.content.decode()


def test_annotators_without_permissions_cannot_launch(client, django_user_model):
    user = django_user_model.objects.create(username="staff-no-perms", is_staff=True)
    client.force_login(user)
    assert client.get(LAUNCH).status_code == 403


def test_launching_on_a_snapshot_and_the_run_page_links_to_it(admin_client, django_capture_on_commit_callbacks):
    snapshot = Snapshot.objects.create(project=ProjectFactory(), kind="pairs", status="ready", folder="p/000001")
    with django_capture_on_commit_callbacks():
        admin_client.post(LAUNCH, launch_form(snapshot=snapshot.pk))
    run = Run.objects.get()
    assert run.snapshot == snapshot
    page = admin_client.get(reverse("admin:training_run_change", args=[run.pk])).content.decode()
    assert reverse("admin:annotate_snapshot_change", args=[snapshot.pk]) in page


def test_the_run_page_shows_ppo_sample_generations_apart_from_the_log(admin_client):
    run = RunFactory(kind="ppo", status=Status.SUCCEEDED, config={"reward_model": "/models/reward"}, log_tail=(
        "resuming from checkpoint-4\nstep 5 sample: 'Tell me about cats.' -> ' banana <b>x</b>' (reward 1.250)\nsaved final"
    ))
    page = admin_client.get(reverse("admin:training_run_change", args=[run.pk])).content.decode()
    samples = page[page.index("Sample generations"):page.index('<pre class="run-log">')]
    assert "step 5 sample: &#x27;Tell me about cats.&#x27; -&gt; &#x27; banana &lt;b&gt;x&lt;/b&gt;&#x27;" in samples
    assert "resuming from" not in samples


def test_the_list_action_compares_the_two_selected_runs(admin_client):
    first, second = RunFactory(status=Status.SUCCEEDED), RunFactory(status=Status.SUCCEEDED)
    changelist = reverse("admin:training_run_changelist")
    reply = admin_client.post(changelist, {"action": "compare_selected", "_selected_action": [second.pk, first.pk]})
    assert reply["Location"] == f"{reverse('admin:training_run_compare')}?run={first.pk}&run={second.pk}"
    reply = admin_client.post(changelist, {"action": "compare_selected", "_selected_action": [first.pk]}, follow=True)
    assert "Select exactly two runs to compare." in reply.content.decode()
