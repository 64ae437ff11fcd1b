"""The metadata every event carries: the context's fields in order, in a dict of its own."""

from __future__ import annotations

from dataclasses import asdict

from domain.context import CommandContext


def test_metadata_is_the_contexts_fields_in_order_in_a_new_dict() -> None:
    context = CommandContext(actor_id="ada", actor_kind="user", correlation_id="c-1")
    meta = context.as_metadata()
    assert list(meta.items()) == list(asdict(context).items())
    meta["actor_id"] = "changed"
    assert context.as_metadata()["actor_id"] == "ada"
