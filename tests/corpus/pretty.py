"""JSON laid out for reading and for diffs: a list or object that fits on its line
stays on one line, anything longer gets one item per line."""

from __future__ import annotations

import json
from typing import Any

WIDTH = 100
STEP = 2


def dumps(value: Any, indent: int = 0, prefix: int = 0) -> str:
    """``prefix``: how many characters precede the value on its first line."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or not value or indent + prefix + len(flat) <= WIDTH:
        return flat
    inner = " " * (indent + STEP)
    if isinstance(value, list):
        items = [inner + dumps(v, indent + STEP) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = []
    for k, v in value.items():
        key = json.dumps(k, ensure_ascii=False) + ": "
        items.append(inner + key + dumps(v, indent + STEP, len(key)))
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
