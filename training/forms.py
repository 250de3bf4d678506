from django import forms

from training.engine.config import PRESETS

from annotate.models import Snapshot

from .models import Run

PRESET_NAMES = sorted({name for presets in PRESETS.values() for name in presets})


class LaunchRunForm(forms.Form):
    name = forms.CharField(required=False, max_length=200)
    kind = forms.ChoiceField(choices=Run.Kind.choices)
    snapshot = forms.ModelChoiceField(
        Snapshot.objects.filter(status=Snapshot.Status.READY).select_related("project"), required=False,
        help_text="The exported data to train on (pairs for reward and DPO, SFT rows for SFT, either for PPO).",
    )
    dataset_path = forms.CharField(
        required=False, max_length=1000, help_text="Instead of a snapshot: a .jsonl file or a snapshot folder on the worker's disk."
    )
    base_model = forms.CharField(
        required=False, max_length=1000,
        help_text="A hub id, a local path or 'tiny'. Empty: the preset's, or the parent run's model.",
    )
    parent = forms.ModelChoiceField(
        Run.objects.filter(status=Run.Status.SUCCEEDED), required=False,
        help_text="PPO: the reward model run. DPO, SFT, PPO: a run whose model this one starts from.",
    )
    preset = forms.ChoiceField(choices=[("", "none: the defaults"), *((n, n) for n in PRESET_NAMES)], required=False)
    config_overrides = forms.JSONField(
        required=False, initial=dict, widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text='JSON over the preset, e.g. {"learning_rate": 0.0001, "max_steps": 200}.',
    )
    resume_on_worker_loss = forms.BooleanField(
        required=False, help_text="If its worker dies, queue it again from the last checkpoint instead of failing it."
    )

    def clean_config_overrides(self):
        overrides = self.cleaned_data["config_overrides"] or {}
        if not isinstance(overrides, dict):
            raise forms.ValidationError('Give a JSON object of field: value, e.g. {"max_steps": 100}.')
        return overrides

    def add_launch_errors(self, errors: dict[str, str]) -> None:
        """Put each error of runs.LaunchError beside its field; config fields go to the overrides box."""
        for field, message in errors.items():
            if field in self.fields:
                self.add_error(field, message)
            else:
                self.add_error("config_overrides", f"{field}: {message}")
