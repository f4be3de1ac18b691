"""The service under test: this checkout, or another one (``--service-tree DIR``).

Everything the harness starts *from the service* (``inventory migrate``, ``serve``,
``worker``, ``verify-ledger``) runs as ``DIR/.venv/bin/python -m service`` with ``DIR``
as its working directory, so Python imports ``DIR/service`` (the working directory
comes first on ``sys.path``) and the migration runner reads ``DIR/migrations``. The
harness itself (load scripts, seeding, ceilings, checks, report) stays this checkout's,
so one harness can measure an old commit and a new one alike.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import REPO


@dataclass(frozen=True, slots=True)
class ServiceTree:
    root: Path
    python: Path

    def argv(self, *command: str) -> list[str]:
        """``inventory <command>`` of this tree."""
        return [str(self.python), "-m", "service", *command]

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.root), "python": str(self.python), **git_state(self.root)}


def service_tree(directory: str | None) -> ServiceTree:
    """This checkout (the interpreter running the harness), or ``directory`` with its own
    ``.venv`` (``make install`` there). Raises SystemExit with a reason when unusable."""
    if directory is None:
        return ServiceTree(REPO, Path(sys.executable))
    root = Path(directory).expanduser().resolve()
    python = root / ".venv" / "bin" / "python"
    for needed in (root / "service" / "__main__.py", root / "migrations", python):
        if not needed.exists():
            raise SystemExit(
                f"bench: --service-tree {root}: {needed} is missing (make install there)"
            )
    found = subprocess.run(
        [str(python), "-c", "import service; print(service.__file__)"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    imported = Path(found.stdout.strip() or "?").resolve()
    if found.returncode != 0 or not imported.is_relative_to(root):
        raise SystemExit(
            f"bench: --service-tree {root}: its python imports the service from "
            f"{imported}, not from the tree ({found.stderr.strip()[-300:]})"
        )
    return ServiceTree(root, python)


def git_state(path: Path) -> dict[str, Any]:
    """The checkout's commit (short) and whether it has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return {"commit": commit or None, "dirty": dirty if commit else None}
