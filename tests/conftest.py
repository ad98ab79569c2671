"""Shared fixtures: the three personas, a real Celery worker, and Chromium.

In CI (CI=true) a missing service is a failure, never a skip: PostgreSQL,
Redis, the worker and Chromium must all be there.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]

# pytest-playwright runs an event loop in the test thread; Django's live_server
# and ORM calls from that thread are safe here because tests are sequential.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Tests that measure the machine: real serving runs whose figures (capacity, goodput, "measured")
# depend on having the CPU to themselves. `make test` runs everything else in parallel processes
# (pytest-xdist), then these alone, one at a time (scripts/test.sh).
SERIAL_TESTS = (
    "tests/engine/test_bench_*.py",
    "tests/engine/test_serving_*.py",
    "tests/engine/test_charts.py",
    "tests/reviewapp/test_benchmark_worker.py",
    "tests/reviewapp/test_benchmark_generative_worker.py",
    "tests/e2e/test_generative_benchmark_browser.py",
    "tests/e2e/test_benchmark_browser.py",
    "tests/test_slow_clients.py",  # a probe must answer within 1 s
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        relative = item.path.relative_to(ROOT) if item.path.is_relative_to(ROOT) else item.path
        if any(relative.match(pattern) for pattern in SERIAL_TESTS):
            item.add_marker(pytest.mark.serial)
    # Browser tests last: Playwright's sync API keeps an event loop running in the
    # main thread for the rest of the session, and asyncio.run() refuses to start there.
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path))


def pytest_sessionstart(session: pytest.Session) -> None:
    if not IN_CI:
        return
    from django.conf import settings

    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("CI must run on PostgreSQL: set DATABASE_URL=postgres://...")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        problems.append("CI must run with Redis: set CELERY_BROKER_URL=redis://...")
    else:
        from reviewapp.core.health import check_broker

        ok, detail = check_broker()
        if not ok:
            problems.append(f"Redis is unreachable: {detail}")
    if not Path(CHROMIUM).exists():
        problems.append(f"Chromium is missing at {CHROMIUM}")
    if problems:
        pytest.exit("CI services missing:\n- " + "\n- ".join(problems), returncode=3)


@pytest.fixture(autouse=True)
def fast_password_hashing(request):
    # The default hasher costs ~0.3 s a user by design; tests make many users.
    # (Engine tests may run with `-p no:django`, where there are no settings.)
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- personas -----------------------------------------------------------------


@pytest.fixture
def team(db):
    from reviewapp.accounts.models import Team

    return Team.objects.create(name="Search team", slug="search-team")


@pytest.fixture
def other_team(db):
    from reviewapp.accounts.models import Team

    return Team.objects.create(name="Other team", slug="other-team")


def _user_in(team, username: str, role: str | None):
    from django.contrib.auth import get_user_model

    from reviewapp.accounts.models import Membership

    user = get_user_model().objects.create_user(username=username, password="pw-for-tests-1")
    if role is not None:
        Membership.objects.create(user=user, team=team, role=role)
    return user


@pytest.fixture
def owner(team):
    return _user_in(team, "olivia", "owner")


@pytest.fixture
def reviewer(team):
    return _user_in(team, "rafael", "reviewer")


@pytest.fixture
def member(team):
    return _user_in(team, "mei", "member")


@pytest.fixture
def outsider(other_team):
    return _user_in(other_team, "oscar", "owner")


@pytest.fixture
def design(team, owner):
    from reviewapp.designs.models import Design

    return Design.objects.create(team=team, name="Ranking service", description="v1", created_by=owner)


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client logged in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login


# --- a real Celery worker -------------------------------------------------------


def _database_url_for_worker() -> str:
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}" if s.get("PASSWORD") else user
    return f"postgres://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A `celery worker` subprocess on the test database and the configured broker."""
    with django_db_blocker.unblock():
        database_url = _database_url_for_worker()
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "celery", "-A", "reviewapp", "worker",
        "-Q", "default,gpu", "-P", "solo", "-n", f"pytest-{os.getpid()}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
    ]  # fmt: skip
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


# --- Chromium -------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"Chromium is required in CI and missing at {CHROMIUM}")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}
