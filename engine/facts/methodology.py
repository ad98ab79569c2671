"""How the numbers are computed: the methodology, as structured text, from one source.

The chapters come from the calculators' own docstrings (the memory model, the throughput estimate,
the workload shapes, capacity, cost) plus a few paragraphs written here, so the explanation sits next to the
code it explains. `docs/facts.md` renders them as Markdown (`reference_markdown`) and the app's
"How these numbers are computed" page renders the same blocks as HTML; a test keeps the two equal.

A chapter is a title and blocks; a block is a paragraph (one string) or a bullet list (a tuple of
strings). Inline markup is the Markdown subset the docstrings use: `code` and **bold**.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.planning import capacity as capacity_module, cost as cost_module, memory, throughput, workload

Block = str | tuple[str, ...]

PROVENANCE = """\
Every number on the page says where it comes from:

* **entered**: typed in the design's forms, or read from the GPU price catalog (a negotiated price
  entered for the design counts as entered too).
* **estimated**: computed from the throughput estimate below, or from numbers that depend on it.
* **measured**: taken from a benchmark run of the reference workload.
* **derived**: computed from the others by the formulas on this page.

Open a number on the design page to see its definition, its formula with the design's own values
in place, and where each value comes from.

An invalid field is left out of every calculation while it is invalid, exactly as if it were blank
(a field with a default falls back to the default and says so). A number that needs a blank or an
invalid field is not computed: it shows as a dash, and the numbers panel lists which numbers it
could not compute and which fields they are waiting for."""

CACHES = """\
Requests that hit the result cache (and, for embedding workloads, the embedding cache) never reach
the model; of the rest, `architecture.cheap_tier_share_pct` go to the cheaper tier. So
`capacity.model_peak_qps` = peak QPS x (1 - result hit) x (1 - embedding hit, embed only) x
(1 - tier share). The prompt (prefix) cache shortens prefill: the estimate uses input tokens x
(1 - prompt hit). Quantization changes the serving precision, hence bytes per parameter and the
peak FLOP/s used by the estimate. `cost.levers.*` re-run the plan with each lever off and report
what it saves on the chosen plan."""

ESTIMATE_INTRO = ("Until a benchmark has measured `benchmark.max_qps_at_p99` (a generative design: "
                  "`benchmark.goodput_rps` or `benchmark.output_tokens_per_s` at the TTFT / TPOT SLO), "
                  "`capacity.per_replica_qps` is an **estimate** (`capacity.per_replica_qps_source == "
                  "'estimated'`):")


@dataclass(frozen=True, slots=True)
class Chapter:
    key: str
    title: str
    blocks: tuple[Block, ...]


def methodology() -> tuple[Chapter, ...]:
    """Every chapter of the methodology, in reading order."""
    return (
        Chapter("provenance", "Where each number comes from", parse_blocks(PROVENANCE)),
        Chapter("shapes", "Workload shapes: online, batch and streaming", parse_blocks(workload.__doc__ or "")),
        Chapter("memory", "Accelerator memory: weights and the KV cache", parse_blocks(memory.__doc__ or "")),
        Chapter("estimate", "How per-replica throughput is estimated",
                (ESTIMATE_INTRO, *parse_blocks(throughput.__doc__ or ""))),
        Chapter("caches", "Caches, tiers and quantization", parse_blocks(CACHES)),
        Chapter("capacity", "How capacity is sized", parse_blocks(_function_doc(capacity_module.plan_capacity))),
        Chapter("cost", "How cost is modelled", parse_blocks(cost_module.__doc__ or "")),
    )


def _function_doc(function) -> str:
    first, _, rest = (function.__doc__ or "").partition("\n")
    return first.strip() + "\n" + rest


def parse_blocks(text: str) -> tuple[Block, ...]:
    """Paragraphs and bullet lists (`* ` items, continued by indented lines) of a docstring."""
    lines = _dedent(text).splitlines()
    blocks: list[Block] = []
    paragraph: list[str] = []
    bullets: list[list[str]] = []

    def flush() -> None:
        if paragraph:
            blocks.append(" ".join(paragraph))
            paragraph.clear()
        if bullets:
            blocks.append(tuple(" ".join(item) for item in bullets))
            bullets.clear()

    for line in lines:
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("* "):
            if paragraph:
                flush()
            bullets.append([stripped[2:].strip()])
        elif bullets and line.startswith(" "):
            bullets[-1].append(stripped)
        else:
            if bullets:
                flush()
            paragraph.append(stripped)
    flush()
    return tuple(blocks)


def _dedent(text: str) -> str:
    lines = text.strip("\n").splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    cut = min(indents) if indents else 0
    return "\n".join([lines[0].strip()] + [line[cut:] for line in lines[1:]]) if lines else ""


def methodology_markdown() -> list[str]:
    """The chapters as Markdown lines (the second half of docs/facts.md)."""
    out: list[str] = []
    for chapter in methodology():
        out += ([] if out else [""]) + [f"## {chapter.title}", ""]
        for block in chapter.blocks:
            if isinstance(block, tuple):
                out += [f"* {item}" for item in block]
            else:
                out.append(block)
            out.append("")
    return out


_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*")


def inline_parts(text: str) -> list[tuple[str, str]]:
    """A block's text as (kind, text) parts: kind is 'text', 'code' or 'strong' (for renderers)."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            parts.append(("text", text[position:match.start()]))
        parts.append(("code", match.group(1)) if match.group(1) is not None else ("strong", match.group(2)))
        position = match.end()
    if position < len(text):
        parts.append(("text", text[position:]))
    return parts


def plain_text(text: str) -> str:
    """A block's text without its inline markup (what a reader sees)."""
    return "".join(part for _, part in inline_parts(text))
