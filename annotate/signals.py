"""Signal receivers, connected in AnnotateConfig.ready."""
from django.db.models.signals import post_save
from django.dispatch import receiver

from .flag_refresh import judgement_recorded
from .models import Judgement


@receiver(post_save, sender=Judgement, dispatch_uid="annotate.judgement_recorded")
def on_judgement_saved(sender, instance: Judgement, created: bool, **kwargs) -> None:
    # Every path that records a judgement (queue, admin, API) counts towards fresh flags.
    if created:
        judgement_recorded(instance)
