"""squawk lints every migration but the nine merged before it ran here (.squawk.toml):
a new file is never exempt, and a risky statement in it fails ``make lint``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SQUAWK = Path(sys.executable).parent / "squawk"
MERGED_BEFORE_SQUAWK = [
    "0001_ledger.sql",
    "0002_reservations_outbox.sql",
    "0003_pickups_and_keys.sql",
    "0004_availability_change_log.sql",
    "0005_transfer_cancellation.sql",
    "0006_unique_ids_as_constraints.sql",
    "0007_staff_sessions.sql",
    "0008_secret_rotation.sql",
    "0009_pickup_creator.sql",
]


def squawk(directory: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p.relative_to(directory)) for p in (directory / "migrations").glob("*.sql"))
    return subprocess.run(
        [str(SQUAWK), "--no-error-on-unmatched-pattern", "--reporter", "gcc", *files],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_only_the_nine_merged_migrations_are_exempt_each_named_exactly() -> None:
    config = tomllib.loads((ROOT / ".squawk.toml").read_text())
    assert config["excluded_paths"] == [f"migrations/{name}" for name in MERGED_BEFORE_SQUAWK]
    assert "excluded_rules" not in config
    for name in MERGED_BEFORE_SQUAWK:
        assert (ROOT / "migrations" / name).is_file()


def test_the_migrations_in_the_tree_pass() -> None:
    done = squawk(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_new_migration_is_linted_with_the_full_rule_set(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".squawk.toml", tmp_path)
    shutil.copytree(ROOT / "migrations", tmp_path / "migrations")
    (tmp_path / "migrations" / "0999_counter.sql").write_text(
        "ALTER TABLE pickups ADD COLUMN visits int;\n"
        "CREATE INDEX pickups_visits_idx ON pickups (visits);\n"
    )
    done = squawk(tmp_path)
    assert done.returncode != 0
    found = {line.split(": ")[2].split()[0] for line in done.stdout.splitlines() if ": " in line}
    assert {
        "prefer-bigint-over-int",
        "require-concurrent-index-creation",
        "require-lock-timeout",
        "require-statement-timeout",
    } <= found
    assert all(line.startswith("migrations/0999_counter.sql") for line in done.stdout.splitlines())
