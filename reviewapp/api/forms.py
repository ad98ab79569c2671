import datetime as dt

from django import forms
from django.utils import timezone

from reviewapp.core.validators import one_line_text


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True, validators=[one_line_text], help_text="What the token is for, e.g. “CI of the search repo”.")
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=3650, label="Expires in (days)",
                                         help_text="Blank: until you revoke it.")

    def expires_at(self) -> dt.datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + dt.timedelta(days=days) if days else None
