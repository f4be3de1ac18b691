# The inventory service: one image, three roles (docs/operations.md, "Image and compose"):
#   inventory serve     the HTTP API (the default command)
#   inventory worker    consumer, outbox relay, sweepers: in production its own process,
#                       so the image sets INVENTORY_RUN_WORKERS_IN_PROCESS=false
#   inventory migrate   one-shot, before the new version's workers and API start
# Two stages: the builder installs exactly uv.lock's versions into /opt/venv and builds the
# service's wheel; the runtime copies that environment: no uv, no build tools, no source
# tree, no editable install.

FROM python:3.11.14-slim-bookworm AS builder

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/venv

# The same uv as the Makefile's UV_VERSION.
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.8

WORKDIR /src
# The locked dependencies first (no dev tools): this layer is rebuilt only when the lock
# changes. --frozen: install the lock as it is; `make lint` has checked it against pyproject.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-install-project

# The service itself, as a wheel (its SQL, templates and migrations inside), installed
# without dependencies: they are the lock's, installed above.
COPY README.md ./
COPY service ./service
COPY migrations ./migrations
RUN uv build --wheel --out-dir /wheels \
    && uv pip install --python /opt/venv/bin/python --no-deps /wheels/inventory_service-*.whl


FROM python:3.11.14-slim-bookworm

# tini as PID 1: it passes SIGTERM on to the service, whose graceful stop finishes the
# messages in flight and publishes what they committed, and it reaps stray children.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 inventory \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin inventory

COPY --from=builder /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    INVENTORY_ENVIRONMENT=production \
    INVENTORY_HOST=0.0.0.0 \
    INVENTORY_RUN_WORKERS_IN_PROCESS=false

USER 10001:10001
EXPOSE 8000

# The API's liveness (a worker container replaces it: `inventory heartbeat FILE`, see
# docker-compose.yml). The slim image has no curl: Python's urllib, which fails on non-2xx.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('INVENTORY_PORT', '8000'), timeout=2)"]

ENTRYPOINT ["tini", "--", "inventory"]
CMD ["serve"]
