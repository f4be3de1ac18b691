"""promtool (Debian's prometheus package, installed by `make tools`), run from a test."""

from __future__ import annotations

import asyncio
import shutil

import pytest

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool: run `make tools`")


async def promtool(*args: str, stdin: bytes = b"") -> tuple[int, str]:
    """Run ``promtool *args``; its exit status and everything it printed."""
    assert PROMTOOL is not None
    process = await asyncio.create_subprocess_exec(
        PROMTOOL,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate(stdin)
    assert process.returncode is not None
    return process.returncode, output.decode()
