"""Forms validate and normalise; engine errors become ValidationErrors here, at one seam."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from engine.checklist import ChecklistError
from engine.checklist.jsonformat import FORMAT, FORMAT_VERSION, load_checklist

from reviewapp.checklists.convert import ITEM_FIELDS, known_fact_paths
from reviewapp.checklists.models import Answer, ChecklistVersion, Item
from reviewapp.checklists.services import FORMATS


class AnswerForm(forms.Form):
    """A member's answer to one manual item; `item` is the engine item being answered."""

    CLEAR = "clear"
    status = forms.ChoiceField(choices=[*Answer.Status.choices, (CLEAR, "Clear the answer")], required=False)
    choices = forms.MultipleChoiceField(required=False, choices=())
    reason = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["choices"].choices = [(c.id, c.title) for c in item.choices]

    def clean(self):
        data = super().clean()
        if self.item.mode != "manual":
            raise ValidationError("This item is checked automatically from the design; it takes no answer.")
        status, choices = data.get("status"), data.get("choices") or []
        if status == Answer.Status.NOT_APPLICABLE and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why it does not apply.")
        if self.item.is_multiple_choice:
            if status in (Answer.Status.PASS, Answer.Status.FAIL):
                self.add_error("status", "Answer this item by picking choices.")
            if not status and not choices:
                self.add_error("choices", "Pick at least one choice (or mark it not applicable).")
        elif not status:
            self.add_error("status", "Pick pass, fail or not applicable.")
        return data


class AcceptanceForm(forms.Form):
    rationale = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    expires_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if expires_on and expires_on < dt.date.today():
            raise ValidationError("The expiry date is in the past.")
        return expires_on


class RepinForm(forms.Form):
    version = forms.ModelChoiceField(queryset=ChecklistVersion.objects.published(), required=False)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A checklist in our JSON format, or an AWS Well-Architected custom lens.")
    format = forms.ChoiceField(choices=[(f, {"ours": "Our JSON", "aws-lens": "AWS lens JSON"}[f]) for f in FORMATS])
    publish = forms.BooleanField(required=False, help_text="Publish the imported version at once.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise ValidationError("The file is larger than 5 MiB.")
        return upload.read()


class ItemAdminForm(forms.ModelForm):
    """Refuses what the engine would refuse: CEL that does not compile (with the compiler's
    message), unknown facts, bad choices and risk rules. The item is checked as the engine reads it,
    in a one-item checklist with its version's levels and strategy."""

    class Meta:
        model = Item
        fields = ["section", "order", *ITEM_FIELDS]
        widgets = {
            f: forms.Textarea(attrs={"rows": 2, "style": "font-family: monospace"}) for f in ("applies_when", "passes_when")
        }

    def clean(self):
        data = super().clean()
        section = data.get("section") or getattr(self.instance, "section", None)
        if self.errors or section is None:
            return data
        version = section.version
        item = {f: data.get(f) for f in ITEM_FIELDS}
        item["weight"] = item["weight"] if item["weight"] is not None else 1.0
        for f in ("resources", "choices", "risk_rules"):
            item[f] = item[f] or []
        document = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "key": "item_check", "name": "item check",
            "scoring": version.scoring, "sections": [{"key": "section_check", "title": "check", "items": [item]}],
        }  # fmt: skip
        if version.levels:
            document["levels"] = version.levels
        try:
            load_checklist(document, known_fact_paths())
        except ChecklistError as exc:
            prefix = "sections[0].items[0]."
            for problem in exc.problems:
                path = problem.path.removeprefix(prefix)
                name = path.split(".")[0].split("[")[0]
                message = problem.message if path == name else f"{path}: {problem.message}"
                if name in self.fields:
                    self.add_error(name, message)
                else:
                    self.add_error(None, f"{problem.path}: {problem.message}")
        other = Item.objects.filter(section__version=version, key=data.get("key")).exclude(pk=self.instance.pk)
        if data.get("key") and other.exists():
            self.add_error("key", f"Another item of this version already has the key {data['key']!r}.")
        return data
