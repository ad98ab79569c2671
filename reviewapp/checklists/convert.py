"""The one seam between checklist rows and the engine's checklist (our JSON format).

A version becomes a document in our format (`version_document`), which the engine reads into its
validated dataclasses (`version_checklist`); an engine checklist becomes rows (`rows_from_checklist`).
"""

from __future__ import annotations

from functools import lru_cache

from engine.checklist import Checklist as EngineChecklist
from engine.checklist.jsonformat import FORMAT, FORMAT_VERSION, dump_checklist, load_checklist
from engine.facts import fact_reference

from reviewapp.checklists.models import Checklist, ChecklistVersion, Item, Section

ITEM_FIELDS = (
    "key", "title", "question", "why", "severity", "weight", "mode", "applies_when", "passes_when",
    "level", "improvement_plan", "resources", "choices", "risk_rules",
)  # fmt: skip


@lru_cache(maxsize=1)
def known_fact_paths() -> frozenset[str]:
    """The fact paths rules may read, from the engine's generated fact reference."""
    return frozenset(entry["path"] for entry in fact_reference())


def item_document(item: Item) -> dict:
    return {field: getattr(item, field) for field in ITEM_FIELDS}


def version_document(version: ChecklistVersion) -> dict:
    """The version in our JSON format, as stored (not validated)."""
    checklist = version.checklist
    sections = version.sections.prefetch_related("items").order_by("order", "id")
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "key": checklist.key,
        "name": checklist.name,
        "description": checklist.description,
        "scoring": version.scoring,
    }
    if version.levels:
        document["levels"] = version.levels
    document["sections"] = [
        {
            "key": s.key,
            "title": s.title,
            "order": s.order,
            "description": s.description,
            "items": [item_document(i) for i in sorted(s.items.all(), key=lambda i: (i.order, i.id))],
        }
        for s in sections
    ]
    return document


def version_checklist(version: ChecklistVersion, known_paths=None) -> EngineChecklist:
    """The version as the engine's validated checklist; raises ChecklistError with JSON paths."""
    return load_checklist(version_document(version), known_paths)


def version_export(version: ChecklistVersion) -> dict:
    """Our JSON format, normalised by the engine (every field, fixed order)."""
    return dump_checklist(version_checklist(version))


def rows_from_checklist(checklist: Checklist, source: EngineChecklist, *, number: int, user=None) -> ChecklistVersion:
    """Write an engine checklist as a new draft version of `checklist` (caller holds the transaction)."""
    document = dump_checklist(source)
    version = ChecklistVersion.objects.create(
        checklist=checklist, number=number, scoring=document["scoring"], levels=document["levels"], created_by=user
    )
    items = []
    for section_doc in document["sections"]:
        section = Section.objects.create(
            version=version, key=section_doc["key"], title=section_doc["title"],
            order=section_doc["order"], description=section_doc["description"],
        )  # fmt: skip
        for position, item_doc in enumerate(section_doc["items"]):
            items.append(Item(section=section, order=position, **{f: item_doc[f] for f in ITEM_FIELDS}))
    Item.objects.bulk_create(items)
    return version
