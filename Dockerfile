# Two images from one file (docs/deployment.md):
#   docker build --target app -t ai-design-review .        web and the `default` worker: no PyTorch
#   docker build --target gpu -t ai-design-review-gpu .    the `gpu` worker (benchmark jobs): + torch
# torch from PyPI on x86_64 is a CUDA build, so the gpu image runs benchmarks on the GPU the
# container gets. The gpu stage is built FROM app, so the two share every layer but torch's.
FROM python:3.11-slim-bookworm AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# pango/harfbuzz/fonts: WeasyPrint (report PDFs); chromium: kaleido draws the report charts
# (both in the default worker); curl: the compose health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core chromium curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY reviewapp ./reviewapp
RUN pip install . && rm -rf build *.egg-info
COPY . .

RUN DJANGO_DEBUG=0 SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 app && mkdir -p /app/data && chown app /app/data
USER 1000
EXPOSE 8000
# Its settings (worker class, threads, bind, trusted proxies) are in gunicorn.conf.py.
CMD ["gunicorn", "--config", "gunicorn.conf.py"]

FROM app AS gpu
USER root
# The `serving` extra only (its pin lives in pyproject.toml); the app itself is already installed.
RUN pip install ".[serving]" && rm -rf build *.egg-info
USER 1000
CMD ["celery", "-A", "reviewapp", "worker", "-Q", "gpu", "-l", "INFO", "--concurrency", "1", "-P", "solo"]
