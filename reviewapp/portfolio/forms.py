from django import forms

from engine import vocabulary
from reviewapp.designs.models import Design
from reviewapp.portfolio.selectors import SORTS

VERDICT_CHOICES = [("", "Any verdict"), *vocabulary.VERDICTS.items(), ("none", "No checklist")]


class DashboardFilters(forms.Form):
    """The dashboard's filters and sort, from the query string (links and the filter form alike)."""

    team = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    verdict = forms.ChoiceField(required=False, choices=VERDICT_CHOICES)
    status = forms.ChoiceField(required=False, choices=[("", "Any review status"), *Design.Status.choices],
                               label="Review status")
    q = forms.CharField(required=False, max_length=200, label="Text", strip=True)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    desc = forms.BooleanField(required=False)

    def __init__(self, data, *, teams):
        super().__init__(data)
        self.fields["team"].choices = [("", "Every team"), *((t.pk, t.name) for t in teams)]

    def selects(self) -> list[dict]:
        """The three menus as the page writes them: name, label, choices (values as text), value."""
        out = []
        for name, label in (("team", "Team"), ("verdict", "Verdict"), ("status", "Review status")):
            value = self.data.get(name, "")
            out.append({"name": name, "label": label, "value": str(value),
                        "choices": [(str(v), text) for v, text in self.fields[name].choices]})
        return out

    def selection(self) -> dict:
        """The selectors' keyword arguments (call after is_valid)."""
        data = self.cleaned_data
        return {"team_id": data["team"], "verdict": data["verdict"], "status": data["status"], "text": data["q"],
                "sort": data["sort"] or "name", "descending": data["desc"]}
