from django import forms

from .importing import FORMATS, ON_DUPLICATE


class ImportItemsForm(forms.Form):
    file = forms.FileField(help_text="JSON lines, a JSON array or CSV; .gz files are unzipped.")
    format = forms.ChoiceField(choices=[(name, name) for name in FORMATS], initial="auto")
    on_duplicate = forms.ChoiceField(
        choices=[(name, name) for name in ON_DUPLICATE],
        initial="reject",
        help_text="What to do with an item whose id the project already has.",
    )
    dry_run = forms.BooleanField(required=False, help_text="Check and count everything, save nothing.")


class ExportSnapshotForm(forms.Form):
    """The export options (annotate.exporting.options.ExportOptions) as admin form fields."""

    kind = forms.ChoiceField(choices=[("pairs", "Preference pairs"), ("sft", "SFT: prompt + best response")], initial="pairs")
    mode = forms.ChoiceField(
        choices=[("per_annotator", "One row per judgement pair"), ("consensus", "One row per item pair (consensus)")],
        initial="per_annotator",
    )
    ties = forms.ChoiceField(choices=[("drop", "Drop ties"), ("keep", "Keep ties with margin 0")], initial="drop")
    rating_gap = forms.FloatField(initial=1.0, min_value=0.0, help_text="Ratings closer than this are a tie.")
    format = forms.ChoiceField(
        choices=[("standard", "Standard (strings)"), ("conversational", "Conversational (messages)")], initial="standard"
    )
    include_margin = forms.BooleanField(required=False, initial=True)
    include_agreement = forms.BooleanField(required=False)
    exclude_suspended = forms.BooleanField(required=False, initial=True, help_text="Leave suspended annotators out.")
    exclude_flagged = forms.BooleanField(required=False, help_text="Leave annotators with active flags out.")
    exclude_gold = forms.BooleanField(required=False, initial=True, help_text="Leave gold items out.")
    min_agreement = forms.FloatField(initial=0.0, min_value=0.0, max_value=1.0)
    deduplicate = forms.BooleanField(required=False, help_text="Identical prompt/chosen/rejected rows once.")
    test_fraction = forms.FloatField(initial=0.1, min_value=0.0, max_value=0.99)
    split_seed = forms.CharField(initial="0", max_length=100, help_text="Another seed gives another train/test split.")
    also = forms.ModelMultipleChoiceField(
        queryset=None, required=False, label="Also export", help_text="More projects in the same snapshot."
    )
    file_formats = forms.MultipleChoiceField(
        choices=[("jsonl", "JSONL"), ("parquet", "Parquet"), ("hf", "Hugging Face datasets folder")],
        initial=["jsonl", "parquet", "hf"], widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, project, **kwargs):
        from .models import Project

        super().__init__(*args, **kwargs)
        self.fields["also"].queryset = Project.objects.exclude(pk=project.pk)

    def export_options(self) -> dict:
        data = dict(self.cleaned_data)
        data["project_ids"] = [project.pk for project in data.pop("also")]
        return data
