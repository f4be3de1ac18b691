"""The house style's sizes (../shared/STYLE.md): a module holds one concept and is split
before about 300 lines; a function past 50 lines needs a reason, and none has one today.
Held here so that a module growing past them is seen in the change that grows it."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "service"
MODULE_LINES = 300
FUNCTION_LINES = 50


def test_no_module_of_the_service_is_over_300_lines() -> None:
    sizes = {p: len(p.read_text().splitlines()) for p in SERVICE.rglob("*.py")}
    assert {str(p.relative_to(SERVICE)): n for p, n in sizes.items() if n > MODULE_LINES} == {}


def test_no_function_of_the_service_is_over_50_lines() -> None:
    long = {}
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > FUNCTION_LINES:
                    long[f"{path.relative_to(SERVICE)}:{node.lineno} {node.name}"] = lines
    assert long == {}
