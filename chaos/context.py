"""What every scenario of a run shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.procs import Processes
from bench.service_tree import ServiceTree
from chaos.options import Options


@dataclass
class Context:
    options: Options
    procs: Processes
    tree: ServiceTree
    log_dir: Path
    run_id: str
    template: str  # the migrated, seeded database every scenario copies
