"""The package's shape, checked: imports flow one way between layers, functions stay short."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "augkit"

# Lowest first. A module may import its own subpackage and any lower layer; modules of one
# layer never import each other's subpackages (gan and eval stay independent).
LAYERS: list[set[str]] = [
    {"augkit.errors"},
    {"augkit", "augkit.files", "augkit.seeding", "augkit.progress", "augkit.devices",
     "augkit.configs", "augkit.dist", "augkit.engines"},
    {"augkit.checkpoint", "augkit.remote"},
    {"augkit.functional"},
    {"augkit.transforms"},
    {"augkit.visualize"},
    {"augkit.data"},
    {"augkit.gan", "augkit.eval"},
    {"augkit.semi"},
    {"augkit.augment", "augkit.study"},
    {"augkit.report"},
    {"augkit.cli"},
    {"augkit.__main__"},
]
MAX_FUNCTION_LINES = 60


def _unit(module: str) -> str:
    """The layer unit of a module: its subpackage, or the module itself at the top level."""
    parts = module.split(".")
    if len(parts) > 2 or (SRC / parts[-1]).is_dir():
        return ".".join(parts[:2])
    return module


def _layer(unit: str) -> int:
    for index, members in enumerate(LAYERS):
        if unit in members:
            return index
    raise AssertionError(f"{unit}: not placed in a layer of tests/test_architecture.py")


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text(), str(path))
    return found


def _imports(module: str, tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            names.add(base)
            # "from augkit import checkpoint" imports the module augkit.checkpoint
            names.update(f"{base}.{alias.name}" for alias in node.names
                         if (SRC.parent / f"{base}.{alias.name}".replace(".", "/")).exists()
                         or (SRC.parent / (f"{base}.{alias.name}".replace(".", "/") + ".py"))
                         .exists())
    return {name for name in names if name == "augkit" or name.startswith("augkit.")}


def test_imports_flow_one_way_between_layers():
    broken = []
    for module, tree in _modules().items():
        mine = _unit(module)
        for imported in _imports(module, tree):
            theirs = _unit(imported)
            if theirs == mine or theirs == "augkit":
                continue
            if _layer(theirs) >= _layer(mine):
                broken.append(f"{module} imports {imported}")
    assert not broken, "layering broken: " + "; ".join(sorted(broken))


def test_the_layer_check_can_fail():
    assert _layer(_unit("augkit.gan.sample")) == _layer(_unit("augkit.eval.reference"))
    with pytest.raises(AssertionError):
        _layer("augkit.somewhere_new")


def test_no_function_is_over_60_lines():
    long = []
    for module, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name} ({lines} lines)")
    assert not long, "functions over 60 lines: " + ", ".join(long)
