# The inventory service: one image runs `inventory serve` (HTTP, with the worker
# in-process by default) or `inventory worker`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    INVENTORY_ENVIRONMENT=production \
    INVENTORY_HOST=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY migrations ./migrations
COPY proto ./proto
RUN pip install -e . \
    && useradd --system --uid 10001 inventory
USER inventory

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live').status != 200)"
ENTRYPOINT ["inventory"]
CMD ["serve"]
