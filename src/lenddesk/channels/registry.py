"""Channel adapters that other rooms provide, without the channels room importing them.

A room registers the adapter of its channel when its module is imported (`register`);
`ADAPTER_MODULES` names those modules, as ledger/after_close.py names its steps and the desk's
`DRAWER_MODULES` its secret drawers, so every process that delivers (the worker, the CLI, the
"deliver now" route) imports them by name and sees the same set, and the import graph keeps
pointing one way (the assistant room imports the channels room, never the reverse).

A registration is a builder `(session_factory, fallback) -> Adapter`, handed the adapter the
channel would otherwise use (the delivery log) as the fallback. The worker sends between the
claim's and the settle's commits, so the adapter commits each delivery in its own short transaction.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core.db import session_factory
from lenddesk.desk.delivery import Adapter

ADAPTER_MODULES = ("lenddesk.assistant.delivery",)

AdapterBuilder = Callable[[sessionmaker[Session], Adapter | None], Adapter]

_registered: dict[str, AdapterBuilder] = {}


def register(channel: str, builder: AdapterBuilder) -> None:
    _registered[channel] = builder


def registrations() -> dict[str, AdapterBuilder]:
    for module in ADAPTER_MODULES:
        importlib.import_module(module)
    return dict(_registered)


def for_worker(adapters: Mapping[str, Adapter], bind: Engine) -> dict[str, Adapter]:
    """`adapters` with the registered channels' adapters laid over them."""
    factory = session_factory(bind)
    built = dict(adapters)
    for channel, build in registrations().items():
        built[channel] = build(factory, adapters.get(channel))
    return built
