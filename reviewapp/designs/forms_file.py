"""The form that imports a design file (engine.designfile) as a new design."""

from django import forms

from engine import designfile
from reviewapp.accounts.models import Team
from reviewapp.core.validators import one_line_text
from reviewapp.designs.models import Design


class DesignFileImportForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    file = forms.FileField(label="Design file (YAML or JSON)",
                           help_text="A file exported from a design page, or written by hand "
                                     "(format: ai-design-review/design).")
    name = forms.CharField(required=False, max_length=designfile.NAME_MAX_LENGTH, strip=True,
                           validators=[one_line_text], help_text="Leave blank to use the name in the file.")

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(pk__in=[t.pk for t in teams])

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > designfile.MAX_FILE_BYTES:
            raise forms.ValidationError(f"The file is {upload.size:,} bytes; a design file is at most "
                                        f"{designfile.MAX_FILE_BYTES:,}.")
        return upload

    def clean(self):
        """Name clashes are checked here, once the file (which may carry the name) is read; the
        file itself is checked by the view, which lists its problems by path."""
        cleaned = super().clean()
        team, name = cleaned.get("team"), cleaned.get("name")
        if team is not None and name and Design.objects.filter(team=team, name__iexact=name).exists():
            self.add_error("name", f"{team} already has a design named “{name}”.")
        return cleaned
