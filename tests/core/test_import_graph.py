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


# --- rooms: dependencies point one way (docs/DESIGN.md) ---------------------------------------------

# core ← ledger ← desk ← channels, negotiation, collections, feedback, risk, incidents, care ← assistant,
# quality, reports ← web ← app.py. (incidents reads collections' guard and fills its pause registry;
# collections never imports incidents.) A room may import its own floor and the floors below, never one above.
FLOORS = (
    ("core",),
    ("ledger",),
    ("desk",),
    ("channels", "negotiation", "collections", "feedback", "risk", "incidents", "care"),
    ("assistant", "quality", "reports"),
    ("web",),
    ("app", "asgi", "cli", "migrations"),
)
FLOOR_OF = {room: floor for floor, rooms in enumerate(FLOORS) for room in rooms}


def room_of(module: str) -> str:
    """`lenddesk.desk.service.outbox` → `desk`; the package itself (`lenddesk`) counts as `core`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "core"


def upward_imports() -> list[str]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        room = room_of(module)
        if room not in FLOOR_OF:
            continue
        top, local = imports_of(path, "lenddesk")
        for target, how in [(t, "import") for t in top] + [(t, "lazy import") for t in local]:
            target_room = room_of(target)
            if FLOOR_OF.get(target_room, 0) > FLOOR_OF[room]:
                found.append(f"{module} → {target} ({how}, {room} below {target_room})")
    return found


def test_every_room_is_on_a_floor() -> None:
    rooms = {path.name for path in SOURCE.iterdir() if (path / "__init__.py").exists()}
    modules = {path.stem for path in SOURCE.glob("*.py") if path.stem != "__init__"}
    assert rooms | modules <= set(FLOOR_OF), sorted((rooms | modules) - set(FLOOR_OF))


def test_no_room_imports_a_room_above_it_even_inside_a_function() -> None:
    assert upward_imports() == []


def test_the_check_sees_a_lazy_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def deliver():\n    from lenddesk.channels import registry\n", encoding="utf-8")
    top, local = imports_of(module, "lenddesk")
    assert (top, local) == (set(), {"lenddesk.channels"})


# --- one writer per shared table (docs/ARCHITECTURE.md "The outbox") ---------------------------------

WRITERS = {
    "OutboxMessage": "desk/service/outbox.py",  # `queue_outbound`
    "Notification": "desk/service/notifications.py",  # `notify`
}


def test_the_outbox_and_the_notifications_have_one_writer_each() -> None:
    for model, writer in WRITERS.items():
        table = f"{model}.__table__"
        found = []
        for path in sorted(SOURCE.rglob("*.py")):
            relative = path.relative_to(SOURCE).as_posix()
            if relative in (writer, "desk/models.py"):
                continue
            source = path.read_text(encoding="utf-8")
            writes = (f"{model}(", f"insert({model}", f"insert({table}")
            if any(text in source for text in writes):
                found.append(relative)
        assert found == [], f"{model} written outside {writer}: {found}"
