"""The plain rows of the posting hot paths unpack their columns by name, in the order read."""

from __future__ import annotations

import pytest

from lenddesk.ledger.service.posting_rows import LineRow, LoanRow


@pytest.mark.parametrize("row_class", [LoanRow, LineRow])
def test_each_column_lands_on_its_own_attribute_and_a_change_is_seen(
    row_class: type[LoanRow | LineRow],
) -> None:
    values = tuple(f"value of {name}" for name in row_class.NAMES)
    row = row_class(values)
    assert {name: getattr(row, name) for name in row_class.NAMES} == dict(
        zip(row_class.NAMES, values, strict=True)
    )
    assert row.changed() is None
    changed_column = row_class.WRITTEN[-1]
    setattr(row, changed_column, "new")
    change = row.changed()
    assert change is not None and change["_id"] == values[0] and change[changed_column] == "new"
    with pytest.raises(AttributeError):  # a misspelt column is an error, not a silent new attribute
        row.paid_principal = 1  # type: ignore[union-attr]
