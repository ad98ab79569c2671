"""Checklists: CEL rules over a design's facts, scoring, and file formats (ours and AWS lenses).

Plain data in, plain data out; no Django. Typical use::

    checklist = load_checklist(json.loads(text))            # or lens_to_checklist(lens_dict)
    compiled = compile_checklist(checklist, fact_paths)      # once per published version
    result = evaluate(compiled, facts.tree, answers, acceptances, today=date.today())
    result.score.overall, result.verdict, result.findings

See docs/checklist-format.md for the format, the rule language and the scoring rules.
"""

from .evaluation import (
    OUTCOMES,
    CompiledChecklist,
    Evaluation,
    Finding,
    TraceStep,
    compile_checklist,
    evaluate,
)
from .expressions import ExpressionError, cel_literal, compile_expression
from .jsonformat import DEFAULT_CHECKLIST_PATH, default_checklist, dump_checklist, load_checklist
from .lens import LensError, checklist_to_lens, lens_to_checklist
from .model import (
    DEFAULT_LEVELS,
    MODES,
    RISKS,
    SEVERITIES,
    SEVERITY_MULTIPLIERS,
    STRATEGIES,
    Checklist,
    ChecklistError,
    Choice,
    Item,
    Level,
    Problem,
    Resource,
    RiskRule,
    Section,
)
from .scoring import LevelProgress, Score, ScoreLine, SectionScore
from .validate import validate_checklist

__all__ = [
    "OUTCOMES", "CompiledChecklist", "Evaluation", "Finding", "TraceStep", "compile_checklist",
    "evaluate", "ExpressionError", "cel_literal", "compile_expression", "DEFAULT_LEVELS", "MODES", "RISKS",
    "SEVERITIES", "SEVERITY_MULTIPLIERS", "STRATEGIES", "Checklist", "ChecklistError", "Choice",
    "Item", "Level", "Problem", "Resource", "RiskRule", "Section", "LevelProgress", "Score",
    "ScoreLine", "SectionScore", "validate_checklist", "DEFAULT_CHECKLIST_PATH",
    "default_checklist", "dump_checklist", "load_checklist", "LensError", "checklist_to_lens",
    "lens_to_checklist",
]
