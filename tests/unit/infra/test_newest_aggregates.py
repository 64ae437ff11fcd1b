"""The bus's own newest aggregates: bounded, least recently remembered out first, and
each batch gets a copy of its own."""

from __future__ import annotations

from typing import Any

from domain.deviceauth.device_access import DeviceAccess
from infra.command_batch import NewestAggregates

META: dict[str, Any] = {"actor_id": "ada", "actor_kind": "user"}


def device(name: str) -> DeviceAccess:
    found = DeviceAccess(device_identifier=name, meta=META)
    found.collect_events()
    return found


def test_a_batch_gets_a_copy_it_may_change() -> None:
    newest = NewestAggregates(10)
    kept = device("A")
    newest.remember([kept])
    copied = newest.copy_of(kept.id)
    assert copied == kept and copied is not kept
    assert isinstance(copied, DeviceAccess)
    copied.set_public_key("A", "KEY", None, None, META)
    again = newest.copy_of(kept.id)
    assert isinstance(again, DeviceAccess) and again.public_key is None


def test_the_least_recently_remembered_goes_first() -> None:
    newest = NewestAggregates(2)
    a, b, c = device("A"), device("B"), device("C")
    newest.remember([a, b])
    newest.remember([a])  # used again: now the most recent
    newest.remember([c])
    assert newest.copy_of(b.id) is None
    assert newest.copy_of(a.id) == a and newest.copy_of(c.id) == c
