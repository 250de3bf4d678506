"""Row factories for tests: every test builds exactly the data it needs."""
import factory
from django.contrib.auth import get_user_model

from django.utils import timezone

from annotate.models import Assignment, Item, Judgement, Membership, Project, Response, TaskMode
from training.engine.checkpoints import checkpoint_dir
from training.engine.config import config_from_dict, config_to_dict




class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"annotator{n}")
    password = factory.django.Password("pass-for-tests")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    guidelines = "Prefer the response that is **correct**, then the one that is concise."
    task_mode = TaskMode.PAIRWISE
    overlap = 3


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)


class ItemFactory(factory.django.DjangoModelFactory):
    """An item with `n_responses` responses (default: 4 for ranking projects, else 2)."""

    class Meta:
        model = Item
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"item-{n}")
    prompt = factory.Sequence(lambda n: f"Question number {n}: what is {n} + {n}?")

    @factory.post_generation
    def n_responses(item, create, extracted, **kwargs):
        if not create:
            return
        count = extracted or (4 if item.project.task_mode == TaskMode.RANKING else 2)
        Response.objects.bulk_create(
            Response(item=item, position=p, text=f"Answer {p} to {item.external_id}", model_name=f"model-{p}")
            for p in range(count)
        )


def annotators_of(project: Project, count: int, prefix: str = "annotator") -> list:
    """`count` users who are members of `project`."""
    users = [UserFactory(username=f"{prefix}-{project.slug}-{i}") for i in range(count)]
    Membership.objects.bulk_create(Membership(project=project, user=user) for user in users)
    return users


class RunFactory(factory.django.DjangoModelFactory):
    """A training run row as the launch service would save it (nothing is sent to a worker)."""

    class Meta:
        model = "training.Run"

    kind = "reward"
    base_model = "tiny"
    dataset_path = "/nonexistent/train.jsonl"
    config = factory.LazyAttribute(lambda run: config_to_dict(config_from_dict(run.kind, {"base_model": run.base_model})))
    output_dir = factory.Sequence(lambda n: f"factory-run-{n}")


def project_for(annotator, *, items: int = 2, n_responses: int | None = None, **fields) -> Project:
    """A project without gold items, with `annotator` as a member and `items` items."""
    project = ProjectFactory(gold_rate=0.0, **fields)
    MembershipFactory(project=project, user=annotator)
    for _ in range(items):
        ItemFactory(project=project, n_responses=n_responses)
    return project


def judgement_of(item: Item, annotator, *, ranks=None, ratings=None, shown_order=None, seconds=20.0, strength=None) -> Judgement:
    """A submitted judgement with its assignment, written directly (tests of the queue use the queue)."""
    now = timezone.now()
    shown_order = shown_order if shown_order is not None else list(range(len(ranks or ratings)))
    assignment = Assignment.objects.create(
        project=item.project, item=item, annotator=annotator, state=Assignment.State.SUBMITTED,
        shown_order=shown_order, leased_at=now, expires_at=now,
    )
    return Judgement.objects.create(
        assignment=assignment, project=item.project, item=item, annotator=annotator, ranks=ranks,
        ratings=ratings, strength=strength, shown_order=shown_order, seconds_spent=seconds,
    )


def finished_checkpoint(output_dir, step: int):
    """A checkpoint folder as a finished save leaves it: its trainer_state.json written last."""
    folder = checkpoint_dir(output_dir, step)
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "trainer_state.json").write_text(f'{{"global_step": {step}}}')
    return folder
