"""The templates a user can start a design from: the shipped ones, then active staff ones."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.http import Http404

from engine.starters import shipped_starters


@dataclass(frozen=True, slots=True)
class MenuEntry:
    key: str
    name: str
    description: str
    text: str  # the design file
    shipped: bool

    @property
    def summary(self) -> str:
        return self.description.split("\n\n", 1)[0].strip()


@lru_cache(maxsize=1)
def _shipped() -> tuple[MenuEntry, ...]:
    # Package files: read once per process.
    return tuple(MenuEntry(key=s.key, name=s.name, description=s.design.description, text=s.text, shipped=True)
                 for s in shipped_starters())


def shipped_keys() -> set[str]:
    return {entry.key for entry in _shipped()}


def starter_menu() -> list[MenuEntry]:
    from reviewapp.starters.models import Starter

    staff = [MenuEntry(key=s.key, name=s.name, description=s.description, text=s.text, shipped=False)
             for s in Starter.objects.filter(is_active=True)]
    return [*_shipped(), *staff]


def starter_or_404(key: str) -> MenuEntry:
    from reviewapp.starters.models import Starter

    for entry in _shipped():
        if entry.key == key:
            return entry
    starter = Starter.objects.filter(key=key, is_active=True).first()
    if starter is None:
        raise Http404("No such template.")
    return MenuEntry(key=starter.key, name=starter.name, description=starter.description, text=starter.text,
                     shipped=False)
