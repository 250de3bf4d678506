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
