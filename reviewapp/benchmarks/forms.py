from django import forms

from engine.bench.design_spec import DEVICES, MAX_UPLOAD_BYTES
from engine.design import field
from reviewapp.benchmarks.specs import ADJUSTABLE, GENERATIVE_ADJUSTABLE, PRESETS


class RunForm(forms.Form):
    """The run to request: a preset, and optional adjustments (reviewers only) of the derived spec.

    Blank adjustments keep the derived value; the limits are engine.bench.design_spec's, checked
    by `validate_spec` in the service, whose errors come back here by field name.
    """

    preset = forms.ChoiceField(choices=[(k, label) for k, (label, _) in PRESETS.items()], initial="design",
                               widget=forms.RadioSelect)
    queries = forms.IntegerField(required=False, label="Queries per server run")
    max_batch_size = forms.IntegerField(required=False, label="Max batch size")
    max_queue_delay_ms = forms.FloatField(required=False, label="Max queue delay (ms)")
    latency_p99_budget_ms = forms.FloatField(required=False, label="P99 budget (ms)")
    target_qps = forms.FloatField(required=False, label="Target rate (QPS)")
    device = forms.CharField(required=False, max_length=16, label="Device",
                             help_text=f"{', '.join(DEVICES)} or cuda:N")
    seed = forms.IntegerField(required=False, label="Seed")
    # A generative design's run (engine.bench.generative_spec's limits, checked by validate_spec).
    requests = forms.IntegerField(required=False, label="Requests per run")
    rate = forms.FloatField(required=False, label="Rate (requests/s)")
    ttft_slo_ms = forms.FloatField(required=False, label="TTFT SLO, p99 (ms)")
    tpot_slo_ms = forms.FloatField(required=False, label="TPOT SLO, p99 (ms)")
    max_num_seqs = forms.IntegerField(required=False, label="Max sequences at once")

    def adjustments(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in {**ADJUSTABLE, **GENERATIVE_ADJUSTABLE}}

    @property
    def adjusted(self) -> bool:
        """True when any field of the spec was changed (or could not even be read)."""
        if any(name in self.errors for name in {**ADJUSTABLE, **GENERATIVE_ADJUSTABLE}):
            return True
        return any(value not in (None, "") for value in self.adjustments().values())


class UploadForm(forms.Form):
    result = forms.FileField(label="Result file (JSON written by python -m engine.bench ... --out)")

    def clean_result(self):
        upload = self.cleaned_data["result"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is {upload.size:,} bytes; a result is at most {MAX_UPLOAD_BYTES:,}.")
        return upload


class KnownThroughputForm(forms.Form):
    per_replica_qps = forms.FloatField(label="Per-replica throughput (QPS at the P99 below)")
    p99_ms = forms.FloatField(label="P99 latency at that rate (ms)")
    source = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             label="Source (where the numbers come from)")
    p99_budget_ms = forms.FloatField(required=False, label="P99 budget (ms; default: the P99 above)")
    device = forms.CharField(required=False, max_length=200, label="Device (e.g. NVIDIA L4)")
    dtype = forms.ChoiceField(
        required=False, label="Precision",
        choices=[("", "—")] + [(c.value, c.label) for c in field("requirements.model_dtype").choices],
    )
