import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items()
                if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_ENV", "DJANGO_DEBUG"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "prod-" + "k3y-Zq9!x" * 8,
    "ALLOWED_HOSTS": "review.example.com",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "HEALTHZ_TOKEN": "probe-" + "t" * 40,
}


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_is_clean_with_the_docker_compose_environment(tmp_path):
    """docker-compose's web environment, as written in the file."""
    env = {"DJANGO_DEBUG": "0", "SECRET_KEY": PRODUCTION["SECRET_KEY"], "ALLOWED_HOSTS": "localhost,127.0.0.1"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **env, DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG must be off"),
        ({"SECRET_KEY": "insecure-dev-key-only-for-local-debug-runs-0123456789abcdef"}, "SECRET_KEY must be your own"),
        ({"SECRET_KEY": "short-key"}, "SECRET_KEY must be your own"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must name your hosts"),
        ({"ALLOWED_HOSTS": "review.example.com,*"}, "ALLOWED_HOSTS must name your hosts"),
        ({"DJANGO_ENV": "staging"}, "DJANGO_ENV must be development or production"),
    ],
)
def test_production_refuses_to_start_with_laptop_settings(tmp_path, change, message):
    result = run_manage("check", **{**PRODUCTION, **change}, DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert message in result.stderr


def test_the_proxy_ssl_header_is_trusted_only_when_configured():
    code = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    unset = {k: v for k, v in PRODUCTION.items() if k != "SECURE_PROXY_SSL_HEADER"}
    assert settings_value(code, **unset) == "None"
    assert settings_value(code, **PRODUCTION) == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_development_is_the_default_and_needs_no_environment():
    code = "from django.conf import settings; print(settings.DJANGO_ENV, settings.DEBUG)"
    assert settings_value(code, DJANGO_ENV="", DJANGO_DEBUG="", SECRET_KEY="") == "development True"
    assert settings_value(code, DJANGO_ENV="", DJANGO_DEBUG="0", SECRET_KEY=PRODUCTION["SECRET_KEY"]) == "production False"


def settings_value(code: str, **env) -> str:
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", *PRODUCTION}}
    full_env.update(env, DJANGO_SETTINGS_MODULE="reviewapp.settings")
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
                            env=full_env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage("check", DJANGO_DEBUG="0", SECRET_KEY="", DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_database_url_switches_to_postgresql():
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "reviewapp.settings",
             "DATABASE_URL": "postgres://u@db.example:5432/review"},  # fmt: skip
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "django.db.backends.postgresql", result.stderr
