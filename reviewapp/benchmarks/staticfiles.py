"""plotly.js as a static file, straight from the plotly package (no CDN, no copy in the repository).

`{% static 'vendor/plotly.min.js' %}` is served by runserver and the test live server through this
finder, and `collectstatic` copies it for WhiteNoise in production. Only that one file is exposed.
"""

import importlib.util
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly.min.js"


def _package_data() -> Path | None:
    spec = importlib.util.find_spec("plotly")  # finds it without importing plotly
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "package_data"


class PlotlyJsFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        self.root = _package_data()
        self.storage = FileSystemStorage(location=str(self.root)) if self.root else None
        if self.storage is not None:
            self.storage.prefix = "vendor"

    def check(self, **kwargs):
        if self.root is None or not (self.root / "plotly.min.js").is_file():
            return [Error("plotly.min.js not found in the plotly package", hint="pip install plotly",
                          id="benchmarks.E001")]
        return []

    def find(self, path, find_all=False, **kwargs):
        found = self.root is not None and path == PLOTLY_JS and (self.root / "plotly.min.js").is_file()
        match = str(self.root / "plotly.min.js") if found else None
        if find_all or kwargs.get("all"):
            return [match] if match else []
        return match or []

    def list(self, ignore_patterns):
        if self.storage is not None and (self.root / "plotly.min.js").is_file():
            yield "plotly.min.js", self.storage
