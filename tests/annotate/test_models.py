import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotate.models import Assignment, Item, Membership, Response
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def lease(item, annotator) -> Assignment:
    now = timezone.now()
    return Assignment.objects.create(
        project=item.project, item=item, annotator=annotator, shown_order=[1, 0], leased_at=now, expires_at=now
    )


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_one_assignment_per_item_and_annotator():
    item, alice, bob = ItemFactory(), UserFactory(), UserFactory()
    lease(item, alice)
    assert refused(lambda: lease(item, alice))
    lease(item, bob)
    assert Assignment.objects.filter(item=item).count() == 2


def test_external_id_is_unique_within_a_project_only():
    first, second = ProjectFactory(), ProjectFactory()
    ItemFactory(project=first, external_id="q-1")
    assert refused(lambda: Item.objects.create(project=first, external_id="q-1", prompt="again"))
    Item.objects.create(project=second, external_id="q-1", prompt="same id, other project")
    assert Item.objects.filter(external_id="q-1").count() == 2


def test_a_gold_item_must_carry_its_answer():
    project = ProjectFactory()
    assert refused(lambda: Item.objects.create(project=project, external_id="g", prompt="p", is_gold=True))
    Item.objects.create(project=project, external_id="g", prompt="p", is_gold=True, gold_answer=[1, 2])


def test_response_positions_are_unique_within_an_item():
    item = ItemFactory(n_responses=2)
    assert refused(lambda: Response.objects.create(item=item, position=1, text="duplicate slot"))



def test_response_length_is_kept_by_the_database_on_every_write():
    item = ItemFactory(n_responses=2)
    assert [r.char_count for r in item.responses.all()] == [len(r.text) for r in item.responses.all()]
    created = Response.objects.create(item=item, position=2, text="éèê")
    assert created.char_count == 3
    Response.objects.filter(pk=created.pk).update(text="a much longer text")
    assert Response.objects.get(pk=created.pk).char_count == 18

def test_rating_scale_must_be_ordered():
    assert refused(lambda: ProjectFactory(task_mode="rating", rating_min=5, rating_max=1))


def test_membership_is_once_per_project():
    project, user = ProjectFactory(), UserFactory()
    Membership.objects.create(project=project, user=user)
    assert refused(lambda: Membership.objects.create(project=project, user=user))
