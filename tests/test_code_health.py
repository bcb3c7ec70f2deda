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


#: The layers of ``kg``, lowest first: a module imports only from its own layer or lower ones.
#: The longest matching name places a module (``kg.synthesis.sheet`` before ``kg.synthesis``).
LAYERS: list[tuple[str, ...]] = [
    ("kg.errors", "kg.namespaces", "kg.text", "kg.resources"),
    ("kg.coding", "kg.sparql"),
    ("kg.store",),
    ("kg.meta", "kg.studies", "kg.vocabulary", "kg.ontology", "kg.archive"),
    ("kg.validate", "kg.reasoning"),
    (
        "kg.sheets",
        "kg.synthesis.model",
        "kg.synthesis.sheet",
        "kg.qda.read",
        "kg.qda.anchor",
        "kg.qda.mapping",
        "kg.qda.to_rdf",
    ),
    ("kg.importer", "kg.build", "kg.qda", "kg.remove"),
    ("kg.read", "kg.docs", "kg.release"),
    ("kg.synthesis",),
    ("kg.serve",),
    ("kg.cli", "kg.explorer", "kg.__main__"),
]


def _module(path: Path) -> str:
    parts = list(path.relative_to(KG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    placed = [
        (len(name), n)
        for n, names in enumerate(LAYERS)
        for name in names
        if module == name or module.startswith(name + ".")
    ]
    assert placed, f"{module} is in no layer: add it to LAYERS"
    return max(placed)[1]


def _imports() -> dict[str, set[str]]:
    """Each kg module's imports of other kg modules, at any depth (a function's too), and of the
    packages they are in where a package's ``__init__`` imports anything itself: importing
    ``kg.a.b`` runs ``kg/a/__init__.py`` first."""
    direct: dict[str, set[str]] = {}
    for path in _modules():
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        module = _module(path)
        direct[module] = {n for n in names if n.startswith("kg.") and n != module}
    found = {}
    for module, names in direct.items():
        packages = {n.rsplit(".", k)[0] for n in names for k in range(1, n.count("."))}
        running = {p for p in packages if direct.get(p) and not (module + ".").startswith(p + ".")}
        found[module] = names | running
    return found


def test_every_import_points_down() -> None:
    upward = [
        f"{module} -> {target}"
        for module, targets in _imports().items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert upward == []


def test_kg_has_no_import_cycle() -> None:
    graph = _imports()
    cycles = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
