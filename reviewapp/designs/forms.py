from django import forms

from reviewapp.accounts.models import Team
from reviewapp.core.validators import multiline_text, one_line_text
from reviewapp.designs.models import Design


class DesignForm(forms.Form):
    name = forms.CharField(max_length=200, strip=True, validators=[one_line_text])
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), validators=[multiline_text]
    )

    def __init__(self, *args, team: Team | None = None, exclude_pk: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.exclude_pk = exclude_pk

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        team = self.team or self.cleaned_data.get("team")
        if team is not None:
            clash = Design.objects.filter(team=team, name__iexact=name).exclude(pk=self.exclude_pk)
            if clash.exists():
                raise forms.ValidationError(f"{team} already has a design named “{name}”.")
        return name


class DesignCreateForm(DesignForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    # team first, so that clean_name can check the name within the chosen team.
    field_order = ["team", "name", "description"]

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(pk__in=[t.pk for t in teams])


class DesignEditForm(DesignForm):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
