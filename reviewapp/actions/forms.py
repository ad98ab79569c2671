from django import forms

from reviewapp.actions.models import Action
from reviewapp.actions.selectors import team_members


class TrackForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=None, error_messages={"required": "Pick an owner."})
    due_on = forms.DateField(error_messages={"required": "Give a due date.", "invalid": "Enter a date as YYYY-MM-DD."})

    def __init__(self, *args, team_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team_members(team_id)


class UpdateForm(forms.Form):
    status = forms.ChoiceField(choices=Action.Status.choices, error_messages={"required": "Pick a status."})
    owner = forms.ModelChoiceField(queryset=None, required=False)
    due_on = forms.DateField(required=False, error_messages={"invalid": "Enter a date as YYYY-MM-DD."})
    reason = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, team_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team_members(team_id)

    def clean(self):
        data = super().clean()
        if data.get("status") == Action.Status.WONT_DO and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why this will not be done.")
        return data
