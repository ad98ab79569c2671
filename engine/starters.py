"""Reference architectures to start a design from: design files shipped in
`engine/data/templates/*.yaml` (docs/templates.md), one per pattern of the course outline.

A template is an ordinary design file (engine.designfile): its `description` explains each choice,
and creating a design from it is importing it. The app adds staff-written templates beside these.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from engine import designfile
from engine.checklist.model import Checklist

TEMPLATES_DIR = Path(__file__).parent / "data" / "templates"


@dataclass(frozen=True, slots=True)
class Starter:
    """One template: `key` is its file's stem (a slug, stable in URLs), `text` the file as shipped."""

    key: str
    text: str
    design: designfile.DesignFile

    @property
    def name(self) -> str:
        return self.design.name

    @property
    def summary(self) -> str:
        """The description's first paragraph (a menu shows it; the rest explains the choices)."""
        return self.design.description.split("\n\n", 1)[0].strip()


def shipped_starters(*, gpu_catalog: Mapping[str, Any] | None = None) -> tuple[Starter, ...]:
    """Every shipped template, in file-name order. Raises DesignFileError (naming the file) if
    one no longer loads: a shipped template that the current fields refuse is a bug to fix."""
    starters = []
    for path in sorted(TEMPLATES_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        try:
            loaded = designfile.load(text, gpu_catalog=gpu_catalog)
        except designfile.DesignFileError as exc:
            raise designfile.DesignFileError([(f"{path.name}: {where}", message)
                                              for where, message in exc.errors]) from None
        starters.append(Starter(key=path.stem, text=text, design=loaded))
    return tuple(starters)


def automatic_items_only(checklist: Checklist) -> Checklist:
    """The checklist without its manual items: what a design file alone can be judged on. A
    template cannot honestly answer "runbooks exist" or "signed off"; the team that starts from
    it does, so a template's own score is taken over the machine-checked items."""
    sections = tuple(dataclasses.replace(s, items=tuple(i for i in s.items if i.mode != "manual"))
                     for s in checklist.sections)
    return dataclasses.replace(checklist, sections=sections)
