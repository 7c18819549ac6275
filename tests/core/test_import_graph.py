"""The shape of the code: no import circles in `core` or in the desk's service package."""

from __future__ import annotations

import ast
import importlib
import inspect
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import lenddesk
from lenddesk.desk import service

SOURCE = Path(lenddesk.__file__).parent


def imports_of(path: Path, package: str) -> tuple[set[str], set[str]]:
    """Modules of `package` that the file imports: (at module level, inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level: set[str] = set()
    local: set[str] = set()
    top_nodes = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        found: set[str] = set()
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == package:
                found = {f"{package}.{alias.name}" for alias in node.names}
            elif node.module.startswith(package + "."):
                found = {node.module}
        elif isinstance(node, ast.Import):
            found = {alias.name for alias in node.names if alias.name.startswith(package + ".")}
        (top_level if id(node) in top_nodes else local).update(found)
    return top_level, local


def graph(package: str) -> dict[str, tuple[set[str], set[str]]]:
    folder = SOURCE.joinpath(*package.split(".")[1:])
    return {
        f"{package}.{path.stem}": imports_of(path, package)
        for path in sorted(folder.glob("*.py"))
        if path.stem != "__init__"
    }


@pytest.mark.parametrize("package", ["lenddesk.core", "lenddesk.desk.service"])
def test_the_modules_import_each_other_without_a_circle(package: str) -> None:
    edges = {module: top | local for module, (top, local) in graph(package).items()}
    try:
        order = list(TopologicalSorter(edges).static_order())
    except CycleError as error:
        pytest.fail(f"import circle in {package}: {' → '.join(error.args[1])}")
    assert set(edges) <= set(order)


def test_the_calendar_and_the_roles_are_leaves_below_the_policy_models_and_db() -> None:
    core = graph("lenddesk.core")
    upper = {"lenddesk.core.policy", "lenddesk.core.models", "lenddesk.core.db"}
    for leaf in ("lenddesk.core.calendar", "lenddesk.core.roles"):
        top, local = core[leaf]
        assert not (top | local) & upper, leaf
    assert "lenddesk.core.calendar" in core["lenddesk.core.policy"][0]  # the policy builds the calendar
    assert "lenddesk.core.roles" in core["lenddesk.core.policy"][0]


def test_no_function_hides_an_import_between_calendar_roles_policy_models_and_db() -> None:
    names = {f"lenddesk.core.{name}" for name in ("calendar", "roles", "policy", "models", "db")}
    core = graph("lenddesk.core")
    for module in names:
        assert not core[module][1] & names, module


def test_the_service_package_names_every_public_use_case_of_its_modules() -> None:
    for module in graph("lenddesk.desk.service"):
        submodule = importlib.import_module(module)
        defined_here = {
            name
            for name, value in vars(submodule).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module
        }
        for name in defined_here:
            assert name in service.__all__, f"{module}.{name}"
            assert getattr(service, name) is getattr(submodule, name), f"{module}.{name}"
    assert inspect.isfunction(service.intake)  # the function, not the module of the same name
