"""The summary and the Markdown table of ``benchmarks/generative.py``'s result: each comparison
G1-G5 against its target. Plain data in, plain data out (no torch). A result written part-way
(after each section) summarises the sections it has."""

from __future__ import annotations

import statistics
from typing import Any


def _round(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 4) if a is not None and b else None


def _goodput(search: dict[str, Any]) -> float | None:
    """Goodput of a search's answer run (the run at its max rate)."""
    return ((search.get("result") or {}).get("metrics") or {}).get("goodput_rps")


def _grid_max(rows: list[dict[str, Any]], who: str) -> tuple[float | None, bool]:
    """The highest passing rate of an ascending grid before the first two failures in a row
    (one failure between passes is the machine's noise), and whether those failures were
    reached (bracketed: else the max is only a lower bound)."""
    best, fails = None, 0
    for row in rows:
        if (row.get(who) or {}).get("pass"):
            best, fails = row["rate_rps"], 0
        else:
            fails += 1
            if fails == 2:
                return best, True
    return best, False


def summarise(r: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    if "g1" in r:
        ratios = [p["ratio"] for p in r["g1"]["pairs"]]
        s["g1_ratio"] = _round(statistics.median(ratios))
        s["g1_ratios"] = ratios
        s["g1_core_tokens_per_s"] = _round(statistics.median(p["core_tokens_per_s"] for p in r["g1"]["pairs"]), 1)
        s["g1_bare_tokens_per_s"] = _round(statistics.median(p["bare_tokens_per_s"] for p in r["g1"]["pairs"]), 1)
        s["g1_met"] = s["g1_ratio"] >= 0.9
    if "offline" in r:
        m = r["offline"]["metrics"]
        s["offline_output_tokens_per_s"] = m["output_tokens_per_s"]
        s["offline_request_throughput_rps"] = m["request_throughput_rps"]
    if "core_search" in r:
        cs = r["core_search"]
        s["core_max_rate_rps"] = cs["max_rate_rps"]
        s["core_max_rate_confirmed"] = cs["confirmed"]
        s["core_goodput_at_slo_rps"] = _goodput(cs)
    if "ideal_steady_search" in r:
        for key in ("steady", "all_runs"):
            other = r.get(f"ideal_{key}_search")
            if other:
                s[f"ideal_{key}_max_rate_rps"] = other["max_rate_rps"]
                s[f"ideal_{key}_goodput_at_slo_rps"] = _goodput(other)
                s[f"g3_ratio_{key}"] = _ratio(s.get("core_goodput_at_slo_rps"), s[f"ideal_{key}_goodput_at_slo_rps"])
        fit = r.get("step_time_fit_paired") or {}
        s["step_fit_r2"] = fit.get("r2")
        s["step_fit_median_rel_error"] = fit.get("median_rel_error")
    rows = [x for x in r.get("g3_paired_grid") or [] if x["ideal_goodput_rps"]]
    if rows:
        ratios = [x["core_goodput_rps"] / x["ideal_goodput_rps"] for x in rows]
        s["g3_ratio"] = _round(statistics.median(ratios))
        s["g3_min_ratio"] = _round(min(ratios))
        s["g3_rows"] = len(rows)
        s["g3_fit_r2_median"] = _round(statistics.median(x["fit_r2"] for x in rows))
        s["g3_met"] = s["g3_ratio"] >= 0.9
    if any("core" in row for row in (r.get("g2") or {}).get("grid", [])):
        grid = r["g2"]["grid"]
        core_best = max((row for row in grid if "core" in row), key=lambda row: row["core"]["goodput_rps"])
        s["g2_core_goodput_rps"] = core_best["core"]["goodput_rps"]
        s["g2_core_rate_rps"] = core_best["rate_rps"]
        statics = [(row[k]["goodput_rps"], int(k.split("_")[1]), row["rate_rps"])
                   for row in grid for k in row if k.startswith("static_")]
        if statics:
            best = max(statics)
            s["g2_static_goodput_rps"], s["g2_static_batch_size"], s["g2_static_rate_rps"] = best
            s["g2_ratio"] = _ratio(s["g2_core_goodput_rps"], best[0]) if best[0] > 0 else None
            s["g2_static_goodput_zero"] = best[0] == 0
            s["g2_met"] = best[0] == 0 and s["g2_core_goodput_rps"] > 0 or (s["g2_ratio"] or 0) >= 3.0
    if "g4" in r:
        g4 = r["g4"]
        s["g4_seqs_held_ratio"] = g4["seqs_held_ratio"]
        s["g4_paged_seqs_held"] = g4["paged"]["mean_seqs_held"]
        s["g4_reserve_seqs_held"] = g4["reserve_max"]["mean_seqs_held"]
        s["g4_paged_waste"] = g4["paged_waste_over_tokens_held"]
        s["g4_reserve_waste"] = g4["reserve_max"]["waste_over_tokens_held"]
        s["g4_met"] = g4["g4_met"]
    if "g5" in r:
        rows = r["g5"]["grid"]
        s["g5_ours_max_rate_rps"], ours_bracketed = _grid_max(rows, "ours")
        s["g5_loadgen_max_rate_rps"], lg_bracketed = _grid_max(rows, "loadgen")
        s["g5_bracketed"] = ours_bracketed and lg_bracketed
        s["g5_ratio_loadgen_over_ours"] = _ratio(s["g5_loadgen_max_rate_rps"], s["g5_ours_max_rate_rps"])
        s["g5_agree_rows"] = sum(1 for row in rows if "ours" in row and "loadgen" in row
                                 and row["ours"]["pass"] == row["loadgen"]["pass"])
        s["g5_rows"] = len(rows)
        s["g5_met"] = (s["g5_bracketed"] and s["g5_ratio_loadgen_over_ours"] is not None
                       and abs(s["g5_ratio_loadgen_over_ours"] - 1) <= 0.05)
    if r.get("calibration_end") and r.get("calibration"):
        s["step1_ms_start"] = r["calibration"]["step1_ms"]
        s["step1_ms_end"] = r["calibration_end"]["step1_ms"]
    stalls = [x["noise"]["stall_fraction"] for x in _noisy(r)]
    s["noise_stall_fraction_median"] = _round(statistics.median(stalls)) if stalls else None
    s["noise_stall_fraction_max"] = max(stalls) if stalls else None
    return s


def _noisy(r: dict[str, Any]) -> list[dict[str, Any]]:
    out = [p for p in (r.get("g1") or {}).get("pairs", [])]
    for row in (r.get("g2") or {}).get("grid", []):
        out += [v for k, v in row.items() if isinstance(v, dict) and v.get("noise")]
    if (r.get("offline") or {}).get("noise"):
        out.append(r["offline"])
    return [x for x in out if x.get("noise")]


def render_markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    prov = result["provenance"]
    st = result["settings"]
    w = result["workload"]
    r = result["results"]
    slo = r.get("slo") or {}
    cal = r.get("calibration") or {}

    def yes(flag: bool | None) -> str:
        return "met" if flag else "**not met**"

    wl = st["workload"]
    lines = [
        f"# Generative core: G1-G5 ({prov.get('device_type')}, {prov.get('device_name')})",
        "",
        f"`{result['command']}` at {result['started_at']}, {result['duration_s']} s, git {prov.get('git_commit')}; "
        f"torch {prov.get('torch_version')} (CUDA {prov.get('cuda_version')}), {st['threads']} torch thread(s), "
        f"{prov.get('cpu_count')} cores. Decoder: {w['layers']} layers, d_model {w['d_model']}, heads "
        f"{w['heads']}/{w['kv_heads']} KV, ffn {w['ffn_dim']}, vocab {w['vocab_size']}, {w['param_count']:,} "
        f"parameters, {w['dtype']}. Scheduler: block {st['scheduler']['block_size']}, "
        f"{st['scheduler']['num_blocks']} blocks, max_num_seqs {st['scheduler']['max_num_seqs']}, "
        f"{st['scheduler']['max_num_batched_tokens']} tokens/step, chunked prefill, prefix caching.",
        "",
        f"Workload: {wl['requests']} requests per run, Poisson arrivals, input {wl['input_len_dist']} (mean "
        f"{wl['input_tokens']['mean']}, max {wl['input_tokens']['max']}), output {wl['output_len_dist']} (mean "
        f"{wl['output_tokens']['mean']}, max {wl['output_tokens']['max']}), seed {wl['seed']}.",
        "",
    ]
    if slo:
        lines += [
            f"SLOs scaled to this model: TPOT {slo['tpot_slo_ms']} ms ({slo['tpot_rule']}; step(1) = "
            f"{cal.get('step1_ms')} ms), TTFT {slo['ttft_slo_ms']} ms ({slo['ttft_rule']}; prefill of the "
            f"longest prompt, {cal.get('longest_prompt_tokens')} tokens, alone = {cal.get('prefill_longest_prompt_ms')} ms). "
            "A rate passes when TTFT p99 and TPOT p99 (nearest rank, a failed request infinitely late) both hold.",
            "",
        ]
    lines += [
        f"Machine stall fraction beside the runs: median {s.get('noise_stall_fraction_median')}, max "
        f"{s.get('noise_stall_fraction_max')}; step(1) {s.get('step1_ms_start')} ms at the start, "
        f"{s.get('step1_ms_end')} ms at the end (a shared 2-core VM: every comparison is paired in this run).",
        "",
        "| | comparison | measured | target | |",
        "|---|---|---|---|---|",
    ]
    if "g1_ratio" in s:
        lines.append(
            f"| G1 | decode tokens/s at batch {r['g1']['batch']}, core / bare loop (median of "
            f"{len(s['g1_ratios'])} ABBA pairs: {', '.join(map(str, s['g1_ratios']))}) | {s['g1_ratio']} "
            f"({s['g1_core_tokens_per_s']:,} / {s['g1_bare_tokens_per_s']:,} tokens/s) | >= 0.9 | {yes(s['g1_met'])} |"
        )
    if "g2_ratio" in s or "g2_static_goodput_zero" in s:
        measured = (f"{s['g2_ratio']}" if s.get("g2_ratio") is not None else "static goodput 0")
        lines.append(
            f"| G2 | goodput, core / best static batch (best over B = {', '.join(map(str, st['static_batch_sizes']))} "
            f"and the rate grid) | {measured} ({s['g2_core_goodput_rps']} req/s at {s['g2_core_rate_rps']} req/s / "
            f"static B={s['g2_static_batch_size']} {s['g2_static_goodput_rps']} req/s at {s['g2_static_rate_rps']} "
            f"req/s) | >= 3 | {yes(s['g2_met'])} |"
        )
    if "g3_ratio" in s:
        lines.append(
            f"| G3 | goodput, core / ideal scheduler on the same arrivals and that run's own measured step times "
            f"(fitted, replayed in order), run by run over G5's {s['g3_rows']} rates: median (min) | {s['g3_ratio']} "
            f"({s['g3_min_ratio']}; fit r2 median {s['g3_fit_r2_median']}) | >= 0.9 | {yes(s['g3_met'])} |"
        )
    for key, label in (("steady", "max-rate run's fit"), ("all_runs", "fit on every core run")):
        if s.get(f"g3_ratio_{key}") is not None:
            lines.append(
                f"| G3 | goodput at the SLO, core / ideal with the {label}, every step as modelled (no machine "
                f"variation) | {s[f'g3_ratio_{key}']} ({s['core_goodput_at_slo_rps']} / "
                f"{s[f'ideal_{key}_goodput_at_slo_rps']} req/s; max rate {s['core_max_rate_rps']} / "
                f"{s[f'ideal_{key}_max_rate_rps']} req/s) | (reported) | |"
            )
    if "g4_seqs_held_ratio" in s:
        g4 = r["g4"]["paged"]
        lines.append(
            f"| G4 | sequences held at {g4['num_blocks']} blocks x {g4['block_size']}, paged / reserve-max "
            f"({g4['max_model_len']} tokens) | {s['g4_seqs_held_ratio']} ({s['g4_paged_seqs_held']} / "
            f"{s['g4_reserve_seqs_held']}) | >= 2 | {yes((s['g4_seqs_held_ratio'] or 0) >= 2)} |"
        )
        lines.append(
            f"| G4 | KV slots wasted / tokens held, paged (reserve-max: {s['g4_reserve_waste']}) | "
            f"{s['g4_paged_waste']} | <= 0.10 | {yes((s['g4_paged_waste'] if s['g4_paged_waste'] is not None else 1) <= 0.10)} |"
        )
    for bs, g in sorted((r.get("g4_block_sizes") or {}).items(), key=lambda kv: int(kv[0])):
        lines.append(
            f"| G4 | the same token budget in blocks of {bs} ({g['paged']['num_blocks']} blocks): sequences held "
            f"ratio, paged waste | {g['seqs_held_ratio']}, {g['paged_waste_over_tokens_held']} | (reported) | |"
        )
    if "g5_rows" in s:
        lines.append(
            f"| G5 | max rate on a paired ascending grid ({s['g5_rows']} rates in 5 % steps; the highest pass "
            f"before two failures in a row), LoadGen token mode / ours | {s['g5_ratio_loadgen_over_ours']} "
            f"({s['g5_loadgen_max_rate_rps']} / {s['g5_ours_max_rate_rps']} req/s; same verdict at "
            f"{s['g5_agree_rows']} of {s['g5_rows']} rates"
            f"{'' if s['g5_bracketed'] else '; NOT bracketed: the grid ended before two failures in a row'}) "
            f"| within 5 % | {yes(s['g5_met'])} |"
        )
    if "offline_output_tokens_per_s" in s:
        lines += ["", f"Offline (all {wl['requests']} requests at once): {s['offline_output_tokens_per_s']} output "
                  f"tokens/s, {s['offline_request_throughput_rps']} requests/s."]
    if "g2" in r:
        cols = ["core"] + [f"static_{b}" for b in st["static_batch_sizes"]]
        lines += ["", "G2 grid (goodput req/s / TTFT p99 ms / TPOT p99 ms; - not run there):", "",
                  "| rate req/s | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        for row in r["g2"]["grid"]:
            cells = [f"{row[k]['goodput_rps']} / {row[k]['ttft_p99_all_ms']} / {row[k]['tpot_p99_all_ms']}"
                     if k in row else "-" for k in cols]
            lines.append(f"| {row['rate_rps']} | " + " | ".join(cells) + " |")
    if "g5" in r:
        lines += ["", "G5 paired grid (pass: TTFT p99 and TPOT p99 within the SLOs):", "",
                  "| rate req/s | ours TTFT / TPOT p99 ms | ours | LoadGen TTFT / TPOT p99 ms | LoadGen |",
                  "|---|---|---|---|---|"]
        for row in r["g5"]["grid"]:
            o, g = row.get("ours") or {}, row.get("loadgen") or {}
            lines.append(f"| {row['rate_rps']} | {o.get('ttft_p99_ms')} / {o.get('tpot_p99_ms')} | {o.get('pass')} | "
                         f"{g.get('ttft_p99_ms')} / {g.get('tpot_p99_ms')} | {g.get('pass')} |")
    if prov.get("device_type") != "cuda":
        lines += ["", "This result is a CPU run: it says nothing of the CUDA path (`--device cuda`)."]
    lines.append("")
    return "\n".join(lines)
