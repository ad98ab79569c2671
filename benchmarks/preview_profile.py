"""Where one typing-preview request spends its time (issue 8): median milliseconds over repeated
posts whose peak QPS changes every time (as typing does, so no memo helps), and the cProfile
functions that cost most. Uses the database that `benchmarks/page.py` prepared.

    python benchmarks/preview_profile.py [--design demo|big] [--top 40]
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
import pstats
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from page import server_env  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/reviewapp_page_bench")
    p.add_argument("--design", choices=("demo", "big"), default="demo")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--top", type=int, default=40)
    args = p.parse_args()
    os.environ.update(server_env(args.database_url), DJANGO_SETTINGS_MODULE="reviewapp.settings", ALLOWED_HOSTS="testserver")
    import django

    django.setup()
    from django.test import Client

    from reviewapp.designs.document import form_data
    from reviewapp.designs.models import Design

    name = "Support assistant (RAG chat)" if args.design == "demo" else "Demo with a 200-item checklist"
    design = Design.objects.get(name=name)
    client = Client()
    client.force_login(design.created_by)
    body = form_data(design.inputs, revision=design.revision)
    peak = itertools.count(100)

    def call():
        data = urllib.parse.urlencode({**body, "requirements.peak_qps": str(next(peak))}, doseq=True)
        response = client.post(f"/designs/{design.pk}/inputs/preview/", data,
                               content_type="application/x-www-form-urlencoded", HTTP_HX_REQUEST="true")
        assert response.status_code == 200, response.status_code
        return response

    if os.environ.get("GC_OFF"): import gc; gc.disable()
    size = len(call().content)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    print(f"preview of {name}: median {statistics.median(times):.1f} ms over {args.repeat}, {size:,} bytes")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(10):
        call()
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
