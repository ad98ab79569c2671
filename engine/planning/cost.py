"""Cost: the fleet's monthly cost under each pricing plan, unit costs, build vs. buy, the budget gap.

Billing model (USD, month = 730 h):

* prices per accelerator-hour come from the GPU catalog (dated per accelerator), unless the design
  entered a negotiated price for a plan (`architecture.negotiated_*_usd_per_hour`): that price
  replaces the catalog's for this design only and is shown as entered.
* used GPU-hours: an autoscaled fleet runs at peak size `peak_hours_per_day` hours a day and at
  average size the rest: GPUs per replica x 365/12 x (average replicas x (24 - peak hours) +
  peak replicas x peak hours). A fixed fleet (no autoscaling) runs peak replicas all 730 h.
  An autoscaled batch fleet runs at full size for the job's run hours a day and at its min
  replicas (usually none) between runs.
* on-demand and spot plans pay the used hours at their hourly price; for a batch job, spot pays
  the expected hours with interruptions (its rework) included.
* reserved plans (1 or 3 years) commit to the peak fleet around the clock: peak GPUs x 730 h.
* the mixed plan pays the used hours at a blended price: reserved share x reserved price (the
  chosen term) + spot share x spot price + the rest x on-demand price. Reserved hours beyond the
  always-on baseline would sit idle, so a warning asks to keep the reserved share within it.
* a cheaper tier (multi-model routing) is its own fleet (`capacity.cheap_tier_replicas`, one GPU
  each, at least one per failure domain): it is billed like the main fleet, its GPU-hours at the
  plan's price (reserved plans: around the clock), and added to every plan's monthly cost.
* unit costs divide the plan's monthly cost by all user requests (cache hits included) and by
  all user tokens (input + output).
* a bought model (`architecture.serving_framework` managed_api, `bought`) runs no fleet: every GPU
  plan is blank and the chosen plan's cost is the API's bill for the same traffic (the build vs.
  buy `api_monthly_usd`), which the budget is judged against; build vs. buy has no fleet to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from engine import vocabulary
from engine.planning.common import DAYS_PER_MONTH, HOURS_PER_MONTH, Note, fact, finite, notes_field

PLANS = tuple(vocabulary.PRICING_PLANS)
BASE_PLANS = ("on_demand", "spot", "reserved_1y", "reserved_3y")  # priced per accelerator-hour; mixed blends them
NEAR_BUDGET_PCT = -10.0


@dataclass(frozen=True, slots=True)
class PlanCosts:
    on_demand: float | None = fact(None, "with on-demand capacity.", default=None)
    spot: float | None = fact(None, "with spot capacity.", default=None)
    reserved_1y: float | None = fact(None, "with 1-year reserved capacity for the peak fleet.", default=None)
    reserved_3y: float | None = fact(None, "with 3-year reserved capacity for the peak fleet.", default=None)
    mixed: float | None = fact(None, "with the mixed plan (reserved + spot + on-demand shares).", default=None)
    selected: float | None = fact(None, "with the plan the design chose (architecture.pricing_model).",
                                  default=None)


@dataclass(frozen=True, slots=True)
class HourlyPrices:
    on_demand: float | None = fact(None, "on-demand.", default=None)
    spot: float | None = fact(None, "spot.", default=None)
    reserved_1y: float | None = fact(None, "1-year reserved.", default=None)
    reserved_3y: float | None = fact(None, "3-year reserved.", default=None)
    mixed: float | None = fact(None, "the mixed plan's blended price (reserved, spot and on-demand shares).",
                               default=None)


@dataclass(frozen=True, slots=True)
class MixShares:
    reserved_pct: float = fact("%", "Share of GPU-hours on reserved capacity.")
    spot_pct: float = fact("%", "Share of GPU-hours on spot capacity.")
    on_demand_pct: float = fact("%", "Share of GPU-hours on on-demand capacity (the rest).")
    reserved_term: str = fact(None, "Reserved term of the mixed plan: '1y' or '3y'.")
    baseline_share_pct: float | None = fact("%", "Share of used GPU-hours that the always-on (average-load) "
                                                 "fleet accounts for; reserve no more than this.")


@dataclass(frozen=True, slots=True)
class BuildVsBuy:
    api_monthly_usd: float | None = fact("USD/month", "A managed API at the entered token prices, for the "
                                                      "requests that miss the result cache.")
    self_hosted_monthly_usd: float | None = fact("USD/month", "The self-hosted fleet on the chosen plan.")
    difference_usd: float | None = fact("USD/month", "API cost - self-hosted cost (positive: self-hosting "
                                                     "is cheaper).")
    cheaper: str | None = fact(None, "'self_hosted' or 'api' (None when either cost is unknown).")


@dataclass(frozen=True, slots=True)
class CostPlan:
    gpu_type: str | None = fact(None, "Accelerator priced (catalog key).")
    gpu_label: str | None = fact(None, "Accelerator priced, by name (the catalog's label).")
    gpu_kind: str | None = fact(None, "'gpu' or 'cpu': the catalog's kind of the accelerator priced.")
    price_as_of: str | None = fact(None, "Date of the chosen accelerator's catalog prices.")
    hourly_usd: HourlyPrices = fact("USD/GPU-hour", "Price per accelerator-hour in force (negotiated, else the "
                                                    "catalog's),")
    negotiated_plans: list[str] = fact(None, "Plans whose price per accelerator-hour the design entered "
                                             "(negotiated), overriding the catalog.")
    autoscaled: bool = fact(None, "True when an autoscaling signal lets the fleet shrink off-peak.")
    replicas_full_size: int | None = fact("replicas", "Replicas billed at full size (the planned peak fleet; a "
                                                      "batch job's fleet).")
    replicas_off_peak: int | None = fact("replicas", "Replicas billed off-peak (between runs for a batch job); a "
                                                     "fixed fleet stays at full size.")
    full_size_hours_per_day: float | None = fact("h/day", "Hours a day the fleet runs at full size: 24 for a fixed "
                                                          "fleet, the peak hours (a batch job: its run hours) when "
                                                          "autoscaled.")
    gpu_hours_per_month: float | None = fact("GPU-h/month", "GPU-hours used per month (see billing model).")
    gpu_hours_always_on: float | None = fact("GPU-h/month", "GPU-hours of the peak fleet running all month.")
    pricing_model: str = fact(None, "The plan the design chose.")
    mix: MixShares = fact(None, "Mixed plan:")
    monthly_usd: PlanCosts = fact("USD/month", "Monthly fleet cost")
    per_1k_requests_usd: PlanCosts = fact("USD/1k requests", "Cost per 1,000 user requests")
    per_1m_tokens_usd: PlanCosts = fact("USD/1M tokens", "Cost per 1M user tokens (input + output)")
    cheap_tier_monthly_usd: float | None = fact("USD/month", "Part of the chosen plan's cost spent on the "
                                                             "cheaper tier.")
    budget_usd: float | None = fact("USD/month", "Monthly GPU budget (entered).")
    budget_gap_usd: float | None = fact("USD/month", "Chosen plan's cost - budget (positive: over budget).")
    budget_gap_pct: float | None = fact("%", "Budget gap as a share of the budget (40 means 40 % over).")
    within_budget: bool | None = fact(None, "Chosen plan's cost <= budget (None when either is unknown).")
    build_vs_buy: BuildVsBuy = fact(None, "Build vs. buy:")
    notes: tuple[Note, ...] = notes_field()


def plan_cost(
    *,
    gpu: Mapping[str, Any] | None,
    gpu_type: str | None = None,
    price_as_of: str | None = None,
    negotiated_usd_per_hour: Mapping[str, float | None] | None = None,
    spot_hours_factor: float = 1.0,
    replicas: int | None,
    replicas_average: int | None = None,
    gpus_per_replica: int = 1,
    autoscaled: bool = False,
    peak_hours_per_day: float = 4.0,
    pricing_model: str = "on_demand",
    reserved_term: str = "1y",
    reserved_share_pct: float = 50.0,
    spot_share_pct: float = 20.0,
    cheap_tier_replicas: int | None = None,
    cheap_tier_replicas_average: int | None = None,
    requests_per_month: float | None = None,
    tokens_per_month: float | None = None,
    api_monthly_usd: float | None = None,
    monthly_budget_usd: float | None = None,
    online: bool = False,
    bought: bool = False,
) -> CostPlan:
    """Monthly cost of the fleet under every plan, per the billing model in the module docstring.

    `gpu` is one catalog entry; its own `as_of` key (when the catalog dates each accelerator, None
    for undated) wins over the catalog's `price_as_of`. `negotiated_usd_per_hour` maps plans to this
    design's own prices.
    `spot_hours_factor` (>= 1) multiplies the hours spot pays for (a batch job's rework after
    interruptions). `api_monthly_usd` is the managed API's cost for the same traffic (see
    `api_monthly_cost`). Unknown inputs leave the dependent numbers as None.
    """
    prices = gpu.get("price_usd_per_hour", {}) if gpu else {}
    negotiated = {plan: finite(price) for plan, price in (negotiated_usd_per_hour or {}).items()
                  if plan in BASE_PLANS and finite(price) is not None and finite(price) >= 0}
    if not gpu:
        negotiated = {}
    base = {p: negotiated.get(p, finite(prices.get(p))) for p in BASE_PLANS}
    g = max(int(gpus_per_replica or 1), 1)
    reserved_pct = min(max(finite(reserved_share_pct) or 0.0, 0.0), 100.0)
    spot_pct = min(max(finite(spot_share_pct) or 0.0, 0.0), 100.0 - reserved_pct)
    term = reserved_term if reserved_term in ("1y", "3y") else "1y"
    peak_hours = min(max(finite(peak_hours_per_day) or 0.0, 0.0), 24.0)
    spot_factor = max(finite(spot_hours_factor) or 1.0, 1.0)
    notes: list[Note] = []

    always_on = used = baseline_share = off_peak = full_hours = None
    if isinstance(replicas, int):
        always_on = replicas * g * HOURS_PER_MONTH
        used = always_on
        off_peak, full_hours = replicas, 24.0
        if autoscaled and isinstance(replicas_average, int):
            average = min(replicas_average, replicas)
            off_peak, full_hours = average, peak_hours
            used = g * DAYS_PER_MONTH * (average * (24.0 - peak_hours) + replicas * peak_hours)
            baseline_share = (average * g * HOURS_PER_MONTH / used * 100.0) if used else None
        elif used:
            baseline_share = 100.0

    blended = None
    term_price = base["reserved_1y"] if term == "1y" else base["reserved_3y"]
    if None not in (term_price, base["spot"], base["on_demand"]):
        on_demand_share = 100.0 - reserved_pct - spot_pct
        blended = (reserved_pct * term_price + spot_pct * base["spot"] * spot_factor
                   + on_demand_share * base["on_demand"]) / 100.0
    hourly = HourlyPrices(**base, mixed=blended)
    spot_price = base["spot"] * spot_factor if base["spot"] is not None else None
    plan_price = {"on_demand": base["on_demand"], "spot": spot_price, "reserved_1y": base["reserved_1y"],
                  "reserved_3y": base["reserved_3y"], "mixed": blended}
    plan_hours = {"on_demand": used, "spot": used, "reserved_1y": always_on, "reserved_3y": always_on,
                  "mixed": used}

    cheap_always_on = cheap_used = None
    if isinstance(cheap_tier_replicas, int) and cheap_tier_replicas > 0:
        cheap_always_on = cheap_used = cheap_tier_replicas * HOURS_PER_MONTH
        if autoscaled and isinstance(cheap_tier_replicas_average, int):
            low = min(cheap_tier_replicas_average, cheap_tier_replicas)
            cheap_used = DAYS_PER_MONTH * (low * (24.0 - peak_hours) + cheap_tier_replicas * peak_hours)
    cheap_hours = {"on_demand": cheap_used, "spot": cheap_used, "reserved_1y": cheap_always_on,
                   "reserved_3y": cheap_always_on, "mixed": cheap_used}

    monthly: dict[str, float | None] = {}
    cheap: dict[str, float | None] = {}
    for plan in PLANS:
        price, hours = plan_price[plan], plan_hours[plan]
        fleet = price * hours if price is not None and hours is not None else None
        tier = 0.0
        if cheap_hours[plan] is not None:
            tier = price * cheap_hours[plan] if price is not None else None
        cheap[plan] = tier
        monthly[plan] = fleet + tier if fleet is not None and tier is not None else None

    selected_plan = pricing_model if pricing_model in PLANS else "on_demand"
    monthly["selected"] = monthly[selected_plan]
    if bought:
        # A managed API runs no fleet of ours: what the design pays is the API's bill for the same
        # traffic, and no GPU plan applies.
        monthly = {plan: None for plan in PLANS} | {"selected": finite(api_monthly_usd)}
        cheap = {plan: None for plan in PLANS}
        notes.append(Note("cost.monthly_usd.selected", "The model is bought (serving framework: managed API): "
                                                       "the monthly cost is the API's bill for this traffic; "
                                                       "there is no GPU fleet to price.", "info"))
    requests, tokens = finite(requests_per_month), finite(tokens_per_month)
    per_1k = {k: (v / requests * 1e3 if v is not None and requests else None) for k, v in monthly.items()}
    per_1m = {k: (v / tokens * 1e6 if v is not None and tokens else None) for k, v in monthly.items()}

    selected = monthly["selected"]
    budget = finite(monthly_budget_usd)
    gap = gap_pct = within = None
    if selected is not None and budget is not None:
        gap = selected - budget
        within = gap <= 0
        if budget > 0:
            gap_pct = gap / budget * 100.0
            if gap > 0:
                notes.append(Note("cost.budget_gap_pct",
                                  f"The {_plan_label(selected_plan)} cost (${selected:,.0f}/month) exceeds the GPU "
                                  f"budget (${budget:,.0f}) by {gap_pct:.0f} %.", "warning"))
            elif gap_pct > NEAR_BUDGET_PCT:
                notes.append(Note("cost.budget_gap_pct",
                                  f"The {_plan_label(selected_plan)} cost uses {100 + gap_pct:.0f} % of the GPU "
                                  "budget: little room for growth.", "info"))
        elif gap > 0:
            gap_pct = None
            notes.append(Note("cost.budget_gap_pct", "The GPU budget is 0 but the fleet costs money.", "warning"))
    elif budget is None:
        notes.append(Note("cost.budget_gap_pct", "No monthly GPU budget is set.", "info"))

    if online and selected_plan == "spot":
        notes.append(Note("cost.monthly_usd.spot", "An all-spot fleet for an online workload: spot capacity can "
                                                   "be reclaimed at short notice; keep on-demand or reserved "
                                                   "capacity for the baseline.", "warning"))
    if selected_plan == "mixed" and baseline_share is not None and reserved_pct > baseline_share + 1e-9:
        notes.append(Note("architecture.reserved_share_pct",
                          f"The reserved share ({reserved_pct:g} %) is above the always-on baseline "
                          f"({baseline_share:.0f} % of GPU-hours): reserved capacity would sit idle off-peak.",
                          "warning"))

    api = finite(api_monthly_usd)
    difference = cheaper = None
    if api is not None and selected is not None and not bought:
        difference = api - selected
        cheaper = "self_hosted" if difference >= 0 else "api"
        if cheaper == "api":
            notes.append(Note("cost.build_vs_buy.cheaper",
                              f"A managed API would cost ${api:,.0f}/month, less than self-hosting "
                              f"(${selected:,.0f}/month).", "info"))

    on_demand_pct = 100.0 - reserved_pct - spot_pct
    return CostPlan(
        gpu_type=gpu_type if gpu else None,
        gpu_label=str(gpu.get("label") or gpu_type) if gpu else None,
        gpu_kind=str(gpu.get("kind") or "gpu") if gpu else None,
        price_as_of=_price_date(gpu, price_as_of),
        hourly_usd=hourly,
        negotiated_plans=[p for p in BASE_PLANS if p in negotiated],
        autoscaled=bool(autoscaled),
        replicas_full_size=replicas if isinstance(replicas, int) else None,
        replicas_off_peak=off_peak,
        full_size_hours_per_day=full_hours,
        gpu_hours_per_month=used,
        gpu_hours_always_on=always_on,
        pricing_model=selected_plan,
        mix=MixShares(reserved_pct, spot_pct, on_demand_pct, term, baseline_share),
        monthly_usd=PlanCosts(**monthly),
        per_1k_requests_usd=PlanCosts(**per_1k),
        per_1m_tokens_usd=PlanCosts(**per_1m),
        cheap_tier_monthly_usd=cheap[selected_plan],
        budget_usd=budget,
        budget_gap_usd=gap,
        budget_gap_pct=gap_pct,
        within_budget=within,
        build_vs_buy=BuildVsBuy(api, None if bought else selected, difference, cheaper),
        notes=tuple(notes),
    )


def api_monthly_cost(
    *,
    input_tokens_per_month: float | None,
    output_tokens_per_month: float | None,
    price_per_1m_input_usd: float | None,
    price_per_1m_output_usd: float | None,
) -> float | None:
    """A managed API's monthly cost: tokens / 1e6 x price, input and output; None without a price."""
    total, priced = 0.0, False
    for tokens, price in ((input_tokens_per_month, price_per_1m_input_usd),
                          (output_tokens_per_month, price_per_1m_output_usd)):
        tokens, price = finite(tokens), finite(price)
        if price is not None and tokens is not None:
            total += tokens / 1e6 * price
            priced = True
    return total if priced else None


@dataclass(frozen=True, slots=True)
class CostLevers:
    """What each cost lever saves on the chosen plan (computed by `engine.facts`)."""

    caching_savings_usd: float | None = fact("USD/month", "Chosen plan's cost without the caches - with them.",
                                             default=None)
    tier_routing_savings_usd: float | None = fact("USD/month", "Cost with every request on the main model - "
                                                               "with the cheaper tier.", default=None)
    quantization_savings_usd: float | None = fact("USD/month", "Cost unquantized - quantized (estimate; None when "
                                                               "throughput is measured).", default=None)
    quantization_speedup: float | None = fact("x", "Estimated per-replica throughput quantized / unquantized.",
                                              default=None)


def _price_date(gpu: Mapping[str, Any] | None, catalog_as_of: str | None) -> str | None:
    """The date of this accelerator's prices: its own `as_of` when the catalog dates entries one by
    one (None there means undated), else the catalog's."""
    if not gpu:
        return None
    value = gpu["as_of"] if "as_of" in gpu else catalog_as_of
    return str(value) if value else None


def _plan_label(plan: str) -> str:
    return {"on_demand": "on-demand", "spot": "spot", "reserved_1y": "1-year reserved",
            "reserved_3y": "3-year reserved", "mixed": "mixed-plan"}[plan]
