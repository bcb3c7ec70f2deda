"""Rules the code keeps, checked by parsing it: values enter SPARQL through one door, and the
modules of ``kg`` import each other without cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KG = Path(__file__).resolve().parent.parent / "kg"
#: The one module that writes terms into query text (kg.sparql.iri_term and friends).
TERMS_MODULE = KG / "sparql.py"


def _modules() -> list[Path]:
    return sorted(p for p in KG.rglob("*.py") if "_resources" not in p.parts)


def _raw_iris(tree: ast.AST) -> list[int]:
    """Lines of f-strings that put a value straight between ``<`` and ``>``."""
    specs = {id(n.format_spec) for n in ast.walk(tree) if isinstance(n, ast.FormattedValue)}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr) or id(node) in specs:
            continue
        parts = node.values
        for before, value in zip(parts, parts[1:], strict=False):
            if (
                isinstance(before, ast.Constant)
                and str(before.value).endswith("<")
                and isinstance(value, ast.FormattedValue)
            ):
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(KG)))
def test_no_raw_iri_interpolation_outside_the_terms_module(path: Path) -> None:
    if path == TERMS_MODULE:
        pytest.skip("the terms module itself")
    found = _raw_iris(ast.parse(path.read_text(encoding="utf-8")))
    assert found == [], f"write IRIs with kg.sparql.iri_term / iri_terms (lines {found})"


def test_the_check_finds_a_raw_interpolation() -> None:
    assert _raw_iris(ast.parse('q = f"SELECT * WHERE {{ <{iri}> ?p ?o }}"')) == [1]
    assert _raw_iris(ast.parse('q = f"{name:<{width}}"')) == []
