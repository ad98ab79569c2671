"""Design templates that staff add beside the shipped ones (engine/data/templates/*.yaml)."""

from django.core.exceptions import ValidationError
from django.db import models


class Starter(models.Model):
    """A staff-written template: the text of a design file (docs/design-file.md). It is checked
    with the same loader as an import whenever it is saved in the admin, and the error names the
    line; `name` and `description` are read from the file then, for the menu."""

    key = models.SlugField(max_length=64, unique=True, help_text="Stable id in the template's URL.")
    text = models.TextField(help_text="A design file (YAML or JSON): format, version, name, description, inputs.")
    name = models.CharField(max_length=200, editable=False)
    description = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(default=True, help_text="Offered under “Start from a template”.")
    position = models.PositiveIntegerField(default=0, help_text="Order in the menu, after the shipped templates.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = "design template"

    def __str__(self) -> str:
        return self.name or self.key

    def clean(self) -> None:
        from engine import designfile
        from reviewapp.designs.catalog import gpu_catalog
        from reviewapp.starters.menu import shipped_keys

        if self.key in shipped_keys():
            raise ValidationError({"key": f"“{self.key}” is the key of a shipped template: choose another."})
        try:
            loaded = designfile.load(self.text or "", gpu_catalog=gpu_catalog())
        except designfile.DesignFileError as exc:
            raise ValidationError({"text": [f"{where}: {message}" for where, message in exc.errors]}) from None
        self.name, self.description = loaded.name, loaded.description
