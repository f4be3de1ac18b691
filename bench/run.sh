#!/usr/bin/env bash
# The benchmark suite (bench/README.md): installs its load generators from Debian's
# packages when missing, then runs `python -m bench.run "$@"` from the virtualenv.
#   bash bench/run.sh --quick        # about 3 minutes, small catalogue
#   bash bench/run.sh                # the default run: 2 million balances, about 12 minutes
#   bash bench/run.sh --scale 10m    # a bigger catalogue
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v pgbench >/dev/null || need+=(postgresql-client)
if ((${#need[@]})); then
    echo "bench: installing ${need[*]} (Debian packages)"
    if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi
command -v rabbitmqctl >/dev/null || { echo "bench: rabbitmqctl not found (RabbitMQ must run locally)" >&2; exit 2; }

PYTHON=.venv/bin/python
[ -x "$PYTHON" ] || { echo "bench: no virtualenv; run 'make install' first (make bench does)" >&2; exit 2; }
exec "$PYTHON" -m bench.run "$@"
