"""Bulk work collects the youngest generation less often, and gives the threshold back after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from lenddesk.core.gc_threshold import BULK_FIRST_GENERATION, raised_for_bulk_work


@pytest.fixture(autouse=True)
def default_threshold() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_raised_inside_and_restored_after() -> None:
    with raised_for_bulk_work():
        assert gc.get_threshold() == (BULK_FIRST_GENERATION, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_nested_work_keeps_it_raised_until_the_outermost_ends() -> None:
    with raised_for_bulk_work():
        with raised_for_bulk_work():
            pass
        assert gc.get_threshold()[0] == BULK_FIRST_GENERATION
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_when_the_work_fails() -> None:
    with pytest.raises(RuntimeError), raised_for_bulk_work():
        raise RuntimeError("chunk failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_is_never_lowered() -> None:
    gc.set_threshold(50_000, 10, 10)
    with raised_for_bulk_work():
        assert gc.get_threshold()[0] == 50_000
    assert gc.get_threshold() == (50_000, 10, 10)


def test_a_collector_switched_off_stays_off() -> None:
    gc.set_threshold(0, 10, 10)
    with raised_for_bulk_work():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0
