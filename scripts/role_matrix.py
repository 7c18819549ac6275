"""Write the role matrix (tests/support/role_matrix.py) into docs/SECURITY.md's "Role matrix" section.

.venv/bin/python scripts/role_matrix.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.role_matrix import markdown_table  # noqa: E402

START, END = "<!-- role-matrix:start -->", "<!-- role-matrix:end -->"


def main() -> None:
    doc = ROOT / "docs" / "SECURITY.md"
    text = doc.read_text(encoding="utf-8")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    doc.write_text(f"{before}{START}\n{markdown_table()}{END}{after}", encoding="utf-8")
    print(f"wrote the role matrix into {doc}")


if __name__ == "__main__":
    main()
