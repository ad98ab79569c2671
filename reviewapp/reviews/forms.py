from django import forms

from reviewapp.core.validators import one_line_text
from reviewapp.reviews.models import Decision

TEXT_LIMIT = 5000


class RevisionForm(forms.Form):
    # The revision the person saw: acting on an older one is refused (the service compares).
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ReviewRequestForm(RevisionForm):
    message = forms.CharField(required=False, max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="What should the reviewers look at?")
    reviewers = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
                                               help_text="None named: any reviewer of the team may take it.")

    def __init__(self, *args, reviewers, **kwargs):
        kwargs.setdefault("auto_id", "request_%s")  # unique ids: the design page holds several forms
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = reviewers


class DecisionForm(RevisionForm):
    outcome = forms.ChoiceField(choices=Decision.Outcome.choices, widget=forms.RadioSelect)
    comment = forms.CharField(max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3}))
    override_reason = forms.CharField(
        required=False, max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only to approve over open high risks or rule errors: why it is approved anyway. "
        "The milestone and every report show it.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "decision_%s")
        super().__init__(*args, **kwargs)


class MilestoneForm(forms.Form):
    name = forms.CharField(required=False, max_length=200, validators=[one_line_text], help_text="Blank: “Milestone N”.")


class CompareForm(forms.Form):
    """Two sides: a milestone number or "now"."""

    old = forms.ChoiceField()
    new = forms.ChoiceField()

    def __init__(self, *args, numbers, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("now", "Now (the saved design)")] + [(str(n), f"M{n} {name}") for n, name in numbers]
        self.fields["old"].choices = self.fields["new"].choices = choices
