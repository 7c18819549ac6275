"""One owner per table: a room reads another room through that room's read interface, never its
models or its tables (docs/ARCHITECTURE.md, "Read interfaces").

`core` is the kernel every room builds on (users, audit); its models are everyone's. A console page
`web/<room>.py` belongs to its room. Migrations are the schema's history and are not scanned.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import lenddesk

SOURCE = Path(lenddesk.__file__).parent
ROOMS = ("ledger", "desk", "channels", "negotiation", "collections", "assistant", "quality", "feedback")
SHARED = "core"
# Upper-case SQL words: a string literal holding one of them and a table name is SQL text.
SQL_WORD = re.compile(r"\b(SELECT|FROM|JOIN|UPDATE|INSERT|DELETE|WHERE|EXISTS)\b")
TABLE_CALLS = {"table", "Table"}
# The writes another branch is moving behind the desk's `queue_outbound` and `notify()`.
PENDING_WRITE_HINT = {
    ("collections/service/contacts.py", "desk"): "outbox write → desk.queue_outbound",
    ("feedback/service.py", "desk"): "outbox write → desk.queue_outbound",
    ("quality/service.py", "desk"): "Notification write → desk notify()",
}


def tables_of(room: str) -> set[str]:
    """The `__tablename__`s of the room's models."""
    module = importlib.import_module(f"lenddesk.{room}.models")
    return {
        value.__tablename__
        for value in vars(module).values()
        if isinstance(value, type) and value.__module__ == module.__name__ and "__tablename__" in vars(value)
    }


def owner_of(path: Path) -> str | None:
    """The room a source file belongs to (None: top-level modules and migrations, not scanned)."""
    parts = path.relative_to(SOURCE).parts
    if parts[0] == "web" and len(parts) >= 2 and Path(parts[1]).stem in ROOMS:  # web/desk.py, web/desk/
        return Path(parts[1]).stem
    return parts[0] if len(parts) > 1 and parts[0] in (*ROOMS, "web") else None


@dataclass(frozen=True)
class Crossing:
    path: str
    line: int
    room: str
    what: str

    def __str__(self) -> str:
        hint = next(
            (
                hint
                for (path, room), hint in PENDING_WRITE_HINT.items()
                if self.path == path and room == self.room
            ),
            None,
        )
        suffix = f"   [pending: {hint}]" if hint else ""
        return f"{self.path}:{self.line}: {self.what} of room {self.room!r}{suffix}"


def _models_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, room) of every import of a room's `models`, at module level or inside a function."""
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        rooms = {
            match.group(1) for name in names if (match := re.fullmatch(r"lenddesk\.(\w+)\.models", name))
        }
        found.extend((node.lineno, room) for room in sorted(rooms))
    return found


def _string_literals(tree: ast.AST) -> list[tuple[int, str, bool]]:
    """(line, text, is the first argument of a `table(...)` call) of every string literal."""
    table_names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
            if name in TABLE_CALLS and isinstance(node.args[0], ast.Constant):
                table_names.add(id(node.args[0]))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        (node.lineno, node.value, id(node) in table_names)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def crossings() -> list[Crossing]:
    owners = {room: tables_of(room) for room in ROOMS}
    patterns = {
        room: re.compile(r"(?<![\w.])(" + "|".join(sorted(tables, key=len, reverse=True)) + r")(?!\w)")
        for room, tables in owners.items()
    }
    found: list[Crossing] = []
    for path in sorted(SOURCE.rglob("*.py")):
        room = owner_of(path)
        if room is None:
            continue
        relative = path.relative_to(SOURCE).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, other in _models_imports(tree):
            if other not in (room, SHARED):
                found.append(Crossing(relative, line, other, "imports the models"))
        for line, literal, names_a_table in _string_literals(tree):
            if not (names_a_table or SQL_WORD.search(literal)):
                continue
            for other, pattern in patterns.items():
                if other == room:
                    continue
                for table in sorted(set(pattern.findall(literal))):
                    found.append(Crossing(relative, line, other, f"names the table {table!r} in SQL"))
    return found


def test_no_room_imports_another_rooms_models_or_names_its_tables_in_sql() -> None:
    found = crossings()
    pending = [crossing for crossing in found if "[pending" in str(crossing)]
    footer = (
        f"\n({len(pending)} marked [pending] are the outbox/notification writes being moved behind"
        " the desk's queue_outbound and notify() on another branch; they go when it merges)"
        if pending
        else ""
    )
    assert not found, (
        "rooms reach into each other's tables (call the owner's read interface instead;"
        " docs/ARCHITECTURE.md):\n" + "\n".join(str(crossing) for crossing in found) + footer
    )


def test_the_scan_sees_an_import_and_sql_text_across_rooms() -> None:
    """The scanner itself: it catches a lazy models import and a table named in SQL text."""
    source = (
        '"""A docstring may say: SELECT the loans."""\n'
        "def f():\n"
        "    from lenddesk.ledger.models import Loan\n"
        "    return text('SELECT COUNT(*) FROM loans l JOIN desk_tickets t ON t.id = l.id')\n"
        "T = table('repayments')\n"
    )
    tree = ast.parse(source)
    assert _models_imports(tree) == [(3, "ledger")]
    literals = _string_literals(tree)
    assert sorted((line, is_table) for line, _, is_table in literals) == [(4, False), (5, True)]
    assert "loans" in tables_of("ledger") and "desk_tickets" in tables_of("desk")
    assert owner_of(SOURCE / "web" / "collections.py") == "collections"
    assert owner_of(SOURCE / "web" / "desk" / "tickets.py") == "desk"
    assert owner_of(SOURCE / "collections" / "service" / "plan.py") == "collections"
    assert owner_of(SOURCE / "migrations" / "versions" / "0005_collections.py") is None
