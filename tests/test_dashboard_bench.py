"""The dashboard benchmark's load client (benchmarks/httpload.c, what it uses where wrk is missing):
a tiny run against a loopback server counts every answer, refused ones apart, and the committed
result is well formed."""

import json
import shutil
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import dashboard  # noqa: E402


@pytest.fixture
def server():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Cookie"))
            self.send_response(500 if self.path == "/refused" else 200)
            self.end_headers()
            self.wfile.write(b"x" * 100_000)  # more than one read

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()


@pytest.mark.skipif(not (shutil.which("cc") or shutil.which("gcc")), reason="no C compiler")
def test_a_tiny_run_counts_answers_and_refusals(server, tmp_path):
    base, seen = server
    binary = dashboard.build_httpload(tmp_path)
    ok = dashboard.run_httpload(binary, base, {"path": "/", "headers": {"HX-Request": "true"}}, "sessionid=abc",
                                duration_s=1, connections=2)
    assert ok["requests"] > 0 and ok["non_2xx"] == 0 and ok["rps"] > 0
    assert ok["p50_ms"] <= ok["p99_ms"]
    assert len(seen) >= ok["requests"] and set(seen) == {"sessionid=abc"}
    refused = dashboard.run_httpload(binary, base, {"path": "/refused", "headers": {}}, "", duration_s=1,
                                     connections=1)
    assert refused["requests"] > 0 and refused["non_2xx"] == refused["requests"]


def test_the_committed_result_is_well_formed_and_states_its_target():
    result = json.loads((ROOT / "benchmarks" / "results" / "dashboard.json").read_text())
    assert result["settings"]["designs"] == 200 and result["valid"] is True
    assert set(result["summary"]) == {"bare view", *(name for name, *_ in dashboard.TARGETS)}
    ratio = result["summary"]["dashboard"]["ratio_to_bare_median"]
    assert result["target"] == {"ratio_to_bare_at_least": 0.3, "dashboard_ratio": ratio, "met": ratio >= 0.3}
    assert all(row[name]["non_2xx"] == 0 for row in result["rounds"] for name in row)
