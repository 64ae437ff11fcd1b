"""Pusher apps and triggers, pure: every change an event, refusals change nothing."""

from __future__ import annotations

import pytest

from domain.context import CommandContext
from domain.errors import DomainError, NotFound
from domain.pusher.apps import AppLimits, Webhook
from domain.pusher.channel_names import channel_name_problem, event_name_problem
from domain.pusher.commands import (
    CreatePusherApp,
    SetPusherAppEnabled,
    SetPusherAppLimits,
    SetPusherAppWebhooks,
    TerminatePusherUserConnections,
    Trigger,
    TriggerPusherEvents,
)
from domain.pusher.handlers import HANDLERS
from domain.pusher.pusher_app import PusherApp, app_config, pusher_app_id
from domain.pusher.trigger import PusherTrigger
from tests.unit.fakes import MemoryUnitOfWork

CLI = CommandContext(actor_id="cli", actor_kind="cli")


def _created(uow: MemoryUnitOfWork) -> PusherApp:
    uow.run(CreatePusherApp(app_id="7", key="k", sealed_secret="sealed", name=" n ", context=CLI))
    app = uow.get(PusherApp, pusher_app_id("7"))
    assert app is not None
    return app


def test_every_change_is_an_event() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    app = _created(uow)
    uow.run(SetPusherAppLimits(app_id="7", limits=AppLimits(max_events_per_batch=3), context=CLI))
    uow.run(SetPusherAppEnabled(app_id="7", enabled=False, context=CLI))
    uow.run(SetPusherAppEnabled(app_id="7", enabled=False, context=CLI))  # no change, no event
    hook = Webhook("https://example.com/hook", ("member_added",), "presence-")
    uow.run(SetPusherAppWebhooks(app_id="7", webhooks=(hook,), context=CLI))
    uow.run(TerminatePusherUserConnections(app_id="7", user_id="u1", context=CLI))
    kinds = [type(e).__qualname__ for e in app.collect_events()]
    assert kinds == [
        "PusherApp.Created",
        "PusherApp.LimitsSet",
        "PusherApp.Disabled",
        "PusherApp.WebhooksSet",
        "PusherApp.UserConnectionsTerminated",
    ]
    config = app_config(app, "opened")
    assert config.name == "n" and not config.enabled and config.secret == "opened"
    assert config.limits == AppLimits(max_events_per_batch=3) and config.webhooks == (hook,)


@pytest.mark.parametrize(
    "command",
    [
        CreatePusherApp(app_id="abc", key="k", sealed_secret="s", name="n", context=CLI),
        CreatePusherApp(app_id="1", key="bad key", sealed_secret="s", name="n", context=CLI),
        CreatePusherApp(app_id="1", key="k", sealed_secret="s", name=" ", context=CLI),
        CreatePusherApp(
            app_id="1",
            key="k",
            sealed_secret="s",
            name="n",
            limits=AppLimits(max_events_per_batch=0),
            context=CLI,
        ),
        CreatePusherApp(
            app_id="1",
            key="k",
            sealed_secret="s",
            name="n",
            webhooks=(Webhook("ftp://x", ("member_added",)),),
            context=CLI,
        ),
        CreatePusherApp(
            app_id="1",
            key="k",
            sealed_secret="s",
            name="n",
            webhooks=(Webhook("http://x", ("everything",)),),
            context=CLI,
        ),
    ],
)
def test_refused_apps(command: CreatePusherApp) -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    with pytest.raises(DomainError):
        uow.run(command)
    assert not uow.aggregates


def test_an_id_is_taken_once_and_unknown_apps_are_not_found() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    _created(uow)
    with pytest.raises(DomainError, match="already exists"):
        uow.run(CreatePusherApp(app_id="7", key="k2", sealed_secret="s", name="n", context=CLI))
    with pytest.raises(NotFound):
        uow.run(SetPusherAppEnabled(app_id="8", enabled=False, context=CLI))


def test_each_trigger_is_its_own_aggregate() -> None:
    uow = MemoryUnitOfWork(HANDLERS)
    triggers = (Trigger(("a", "b"), "e", "d"), Trigger(("c",), "f", '{"x":1}', "1.2"))
    ids = uow.run(TriggerPusherEvents(app_id="7", triggers=triggers, context=CLI))
    assert len(ids) == 2
    events = [e for i in ids for e in uow.aggregates[i].collect_events()]
    assert [type(e).__qualname__ for e in events] == ["PusherTrigger.Triggered"] * 2
    assert isinstance(events[1], PusherTrigger.Triggered)
    assert vars(events[1])["socket_id"] == "1.2" and vars(events[1])["channels"] == ["c"]


def test_names() -> None:
    assert channel_name_problem("private-encrypted-x_y=@,.;", 164) is None
    assert channel_name_problem("#server-to-user-u1", 164) is None
    assert channel_name_problem("#server-to-user-", 164) is not None
    assert channel_name_problem("a b", 164) is not None
    assert channel_name_problem("x" * 165, 164) is not None
    assert event_name_problem("pusher_internal:x", 200) is not None
    assert event_name_problem("client-x", 200) is None
