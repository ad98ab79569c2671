"""Django choices built from the engine's vocabularies (engine/vocabulary.py), never retyped."""

from django.db import models


def text_choices(name: str, vocabulary: dict[str, str]) -> type[models.TextChoices]:
    """A TextChoices enum whose members are the vocabulary's values (HIGH = "high", "High")."""
    return models.TextChoices(name, [(value.upper(), (value, label)) for value, label in vocabulary.items()])
