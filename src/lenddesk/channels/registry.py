"""Channel adapters that other rooms provide, without the channels room importing them.

A room registers the adapter of its channel when its module is imported (`register`);
`ADAPTER_MODULES` names those modules, as `app.ROUTER_MODULES` names the routers, so the delivery
worker imports them by name and the import graph keeps pointing one way (the assistant room imports
the channels room, never the reverse).

Each registration gives two builders, both handed the adapter the channel would otherwise use
(the delivery log) as the fallback:

* `worker(session_factory, fallback)`: for the delivery worker, which sends between the claim's and
  the settle's commits, so the adapter commits each delivery in its own short transaction;
* `inline(session, fallback)`: for `desk.deliver_outbox`, which delivers inside the caller's
  transaction (the adapter writes in that session and never commits).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.channels.delivery_log import Adapter

ADAPTER_MODULES = ("lenddesk.assistant.delivery",)


WorkerBuilder = Callable[[sessionmaker[Session], Adapter | None], Adapter]
InlineBuilder = Callable[[Session, Adapter | None], Adapter]


@dataclass(frozen=True)
class Registration:
    worker: WorkerBuilder
    inline: InlineBuilder


_registered: dict[str, Registration] = {}


def register(channel: str, *, worker: WorkerBuilder, inline: InlineBuilder) -> None:
    _registered[channel] = Registration(worker, inline)


def registrations() -> dict[str, Registration]:
    for module in ADAPTER_MODULES:
        importlib.import_module(module)
    return dict(_registered)


def for_worker(adapters: Mapping[str, Adapter], bind: Engine) -> dict[str, Adapter]:
    """`adapters` with the registered channels' worker adapters laid over them."""
    from lenddesk.core.db import session_factory

    factory = session_factory(bind)
    built = dict(adapters)
    for channel, registration in registrations().items():
        built[channel] = registration.worker(factory, adapters.get(channel))
    return built


def inline(adapters: Mapping[str, Adapter], session: Session) -> dict[str, Adapter]:
    """`adapters` with the registered channels' in-transaction adapters laid over them."""
    built = dict(adapters)
    for channel, registration in registrations().items():
        built[channel] = registration.inline(session, adapters.get(channel))
    return built
