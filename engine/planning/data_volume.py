"""Data volume: what lands per day, month and year, what is stored under the retention, bandwidth."""

from __future__ import annotations

from dataclasses import dataclass

from engine.planning.common import DAYS_PER_MONTH, Note, fact, finite, notes_field

KB_PER_GB = 1_000_000.0  # decimal units, as storage is billed
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, slots=True)
class DataVolumePlan:
    request_log_gb_per_day: float | None = fact("GB/day", "Request + response payloads logged per day "
                                                          "(requests per day x (request + response size)).")
    new_data_gb_per_day: float | None = fact("GB/day", "New data per day besides logs (entered).")
    ingest_gb_per_day: float | None = fact("GB/day", "Everything landing per day: logs + new data.")
    ingest_gb_per_month: float | None = fact("GB/month", "Ingest per day x 30.42.")
    ingest_gb_per_year: float | None = fact("GB/year", "Ingest per day x 365.")
    retention_days: int | None = fact("days", "Retention used (None = kept forever).")
    stored_gb_after_1y: float | None = fact("GB", "Stored after a year: training data + ingest per day x "
                                                  "min(retention, 365 days).")
    stored_gb_steady_state: float | None = fact("GB", "Stored once retention is reached: training data + ingest "
                                                      "per day x retention (None when kept forever).")
    ingress_mbps_peak: float | None = fact("Mbit/s", "Request bandwidth at peak QPS.")
    egress_mbps_peak: float | None = fact("Mbit/s", "Response bandwidth at peak QPS.")
    notes: tuple[Note, ...] = notes_field()


def plan_data_volume(
    *,
    requests_per_day: float | None = None,
    peak_qps: float | None = None,
    request_size_kb: float | None = None,
    response_size_kb: float | None = None,
    log_payloads: bool | None = True,
    new_data_per_day_gb: float | None = None,
    retention_days: int | None = None,
    training_data_gb: float | None = None,
) -> DataVolumePlan:
    """Volumes in decimal GB (1 GB = 1,000,000 KB); month = 365/12 days.

    Logs per day = requests per day x (request KB + response KB) / 1e6 when payloads are logged
    (a blank size counts as 0 KB). Stored volume caps each day's ingest at the retention.
    """
    per_day_requests = finite(requests_per_day)
    req_kb, resp_kb = finite(request_size_kb), finite(response_size_kb)
    new_data = finite(new_data_per_day_gb)
    training = finite(training_data_gb) or 0.0
    notes: list[Note] = []

    logs = None
    if log_payloads is False:
        logs = 0.0
    elif per_day_requests is not None and (req_kb is not None or resp_kb is not None):
        logs = per_day_requests * ((req_kb or 0.0) + (resp_kb or 0.0)) / KB_PER_GB
    ingest = None if logs is None and new_data is None else (logs or 0.0) + (new_data or 0.0)

    retention = retention_days if isinstance(retention_days, int) and not isinstance(retention_days, bool) else None
    after_year = steady = None
    if ingest is not None:
        kept_days = DAYS_PER_YEAR if retention is None else min(float(retention), DAYS_PER_YEAR)
        after_year = training + ingest * kept_days
        if retention is None:
            if ingest > 0:
                notes.append(Note("data_volume.stored_gb_steady_state",
                                  "No retention is set: stored data grows without bound.", "warning"))
        else:
            steady = training + ingest * retention

    peak = finite(peak_qps)
    return DataVolumePlan(
        request_log_gb_per_day=logs,
        new_data_gb_per_day=new_data,
        ingest_gb_per_day=ingest,
        ingest_gb_per_month=ingest * DAYS_PER_MONTH if ingest is not None else None,
        ingest_gb_per_year=ingest * DAYS_PER_YEAR if ingest is not None else None,
        retention_days=retention,
        stored_gb_after_1y=after_year,
        stored_gb_steady_state=steady,
        ingress_mbps_peak=peak * req_kb * 8.0 / 1000.0 if peak is not None and req_kb is not None else None,
        egress_mbps_peak=peak * resp_kb * 8.0 / 1000.0 if peak is not None and resp_kb is not None else None,
        notes=tuple(notes),
    )
