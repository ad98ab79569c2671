"""What changed between two versions: items added, removed and changed (by key, field by field)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewapp.checklists.convert import ITEM_FIELDS, version_document
from reviewapp.checklists.models import ChecklistVersion


@dataclass
class ItemChange:
    key: str
    title: str
    fields: list[tuple[str, object, object]]  # (field, old, new)


@dataclass
class VersionDiff:
    old: ChecklistVersion
    new: ChecklistVersion
    settings: list[tuple[str, object, object]] = field(default_factory=list)
    sections: list[tuple[str, object, object]] = field(default_factory=list)
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[ItemChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.settings or self.sections or self.added or self.removed or self.changed)


def _items(document: dict) -> dict[str, dict]:
    return {
        item["key"]: {**item, "section": section["key"]}
        for section in document["sections"]
        for item in section["items"]
    }


def version_diff(old: ChecklistVersion, new: ChecklistVersion) -> VersionDiff:
    a, b = version_document(old), version_document(new)
    diff = VersionDiff(old, new)
    for name in ("scoring", "levels"):
        if a.get(name) != b.get(name):
            diff.settings.append((name, a.get(name), b.get(name)))
    sections_a = {s["key"]: {k: v for k, v in s.items() if k != "items"} for s in a["sections"]}
    sections_b = {s["key"]: {k: v for k, v in s.items() if k != "items"} for s in b["sections"]}
    for key in sorted(sections_a.keys() | sections_b.keys()):
        if sections_a.get(key) != sections_b.get(key):
            diff.sections.append((key, sections_a.get(key), sections_b.get(key)))
    items_a, items_b = _items(a), _items(b)
    diff.added = [items_b[k] for k in items_b if k not in items_a]
    diff.removed = [items_a[k] for k in items_a if k not in items_b]
    for key in items_a.keys() & items_b.keys():
        old_item, new_item = items_a[key], items_b[key]
        fields = [(f, old_item[f], new_item[f]) for f in ("section", *ITEM_FIELDS) if old_item[f] != new_item[f]]
        if fields:
            diff.changed.append(ItemChange(key, new_item["title"], fields))
    diff.changed.sort(key=lambda c: c.key)
    return diff
