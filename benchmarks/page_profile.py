"""Where one design-page view or typing preview spends its time: median milliseconds, SQL queries,
HTML bytes, and the cProfile functions that cost most (sorted by --sort). Runs in-process with
Django's test client against the database that `benchmarks/page.py` prepared (run that once
first), with production settings. Each preview posts another peak QPS, as typing does, so no memo
answers it.

    python benchmarks/page_profile.py [--view page|preview] [--design demo|big] [--top 25] [--sort tottime]
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
    p.add_argument("--view", choices=("page", "preview"), default="page")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--sort", default="cumulative", help="a pstats sort key: cumulative, tottime, ...")
    args = p.parse_args()
    os.environ.update(server_env(args.database_url))
    os.environ["DJANGO_SETTINGS_MODULE"] = "reviewapp.settings"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from reviewapp.designs.document import form_data
    from reviewapp.designs.models import Design

    name = "Support assistant (RAG chat)" if args.design == "demo" else "Demo with a 200-item checklist"
    design = Design.objects.get(name=name)
    client = Client(enforce_csrf_checks=False)
    client.force_login(design.created_by)
    if args.view == "page":
        def call():
            return client.get(f"/designs/{design.pk}/")
    else:
        body = form_data(design.inputs, revision=design.revision)
        peak = itertools.count(100)

        def call():  # urlencoded, as htmx posts it
            data = urllib.parse.urlencode({**body, "requirements.peak_qps": str(next(peak))}, doseq=True)
            return client.post(f"/designs/{design.pk}/inputs/preview/", data,
                               content_type="application/x-www-form-urlencoded", HTTP_HX_REQUEST="true")
    response = call()  # warm: compiled checklist, template cache
    assert response.status_code == 200, response.status_code
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *a: queries.append(sql) or execute(sql, *a)):
        response = call()
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    print(f"{args.view} of {name}: median {statistics.median(times):.1f} ms over {args.repeat}, "
          f"{len(queries)} queries, {len(response.content):,} bytes")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(5):
        call()
    profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
