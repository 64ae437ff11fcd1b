"""A private copy of an aggregate for a command to decide on, at a fraction of deepcopy's cost.

copy.deepcopy goes through __reduce_ex__ and copyreg for every UUID and datetime in an
aggregate (each id, each timestamp) and keeps a memo of everything it visits; that was a
third of the command bus's time. Aggregates hold plain data (the snapshots store them as
JSON), so values of immutable types are shared, lists and dicts are rebuilt, pending events
(frozen dataclasses) are shared in a new list, and anything else is deep-copied as before.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)

_SHARED: frozenset[type] = frozenset(
    {str, int, float, bool, bytes, type(None), UUID, datetime, date, time, timedelta, Decimal}
)


def copy_aggregate(aggregate: A) -> A:
    """An aggregate of the same class whose state can change without touching the original."""
    cls = type(aggregate)
    if _customised_copy(cls):
        return copy.deepcopy(aggregate)
    state = {
        # eventsourcing's events are frozen dataclasses: the list is the mutable part.
        name: list(value) if name == "_pending_events" else _copy_value(value)
        for name, value in vars(aggregate).items()
    }
    # As eventsourcing builds an aggregate from a snapshot: no __init__, which would
    # trigger a creation event.
    copied = object.__new__(cls)
    copied.__dict__.update(state)
    return copied


def _copy_value(value: Any) -> Any:
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is list:
        return [_copy_value(v) for v in value]
    if kind is dict:
        return {k: _copy_value(v) for k, v in value.items()}
    if kind is tuple:
        return tuple(_copy_value(v) for v in value)
    if isinstance(value, Enum):
        return value
    return copy.deepcopy(value)


_CUSTOMISED: dict[type, bool] = {}


def _customised_copy(cls: type) -> bool:
    """Whether the class says how it is copied or pickled (then deepcopy, which honours
    it), or keeps state outside its __dict__."""
    known = _CUSTOMISED.get(cls)
    if known is None:
        known = _CUSTOMISED[cls] = any(
            name in vars(base) for base in cls.__mro__[:-1] for name in _COPY_HOOKS
        ) or any(getattr(base, "__slots__", ()) for base in cls.__mro__)
    return known


_COPY_HOOKS = ("__deepcopy__", "__setstate__", "__getstate__", "__reduce_ex__", "__reduce__")
