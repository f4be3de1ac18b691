"""What an operator watches: Prometheus metrics (docs/operations.md, "Metrics").

``metrics`` imports only prometheus_client and the standard library, so any layer may
count through it; ``scrape`` reads the running service's parts when scraped, and
``metrics_port`` serves the worker's metrics on a port of its own.
"""
