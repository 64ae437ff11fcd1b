"""Who is told what on OpenShock's SignalR hubs (projections/openshock_user_notifications.py),
from records the domain handlers made, with names read from the in-memory views."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.context import CommandContext
from domain.openshock.commands import (
    ControlItem,
    ControlShockers,
    ControlThroughShareLink,
    PauseShocker,
    RenameHub,
)
from domain.openshock.hub_link_commands import (
    RecordHubBoot,
    RecordHubConnected,
    RecordHubDisconnected,
    RecordHubLatency,
    RecordOtaFailed,
    RecordOtaProgress,
    RecordOtaStarted,
    RequestOtaInstall,
)
from domain.openshock.values import Permission
from projections.api_token_view import ApiTokenView
from projections.openshock_shapes import GUEST_ID
from projections.openshock_user_notifications import (
    AccessChanged,
    Delivery,
    HubWatchers,
    ToShareLink,
    ToUser,
    UserNotifications,
)
from tests.unit.domain.openshock.world import ALICE, BOB, NOW, context, session, token
from tests.unit.projections.openshock_world import LoggedWorld, add_hub, add_shocker, people
from tests.unit.projections.test_openshock_share_link_view import add, new_link
from tests.unit.projections.test_openshock_share_view import share_by_invite


class Told:
    """The notices of what was logged since the last call, as one node's gateway reads them."""

    def __init__(self, world: LoggedWorld) -> None:
        self.world = world
        self.notifications = UserNotifications()
        self.seen = len(world.records)
        view = ApiTokenView()
        for statement in view.create_statements():
            world.connection.execute(statement)

    def __call__(self) -> list[Any]:
        fresh = self.world.records[self.seen :]
        self.seen = len(self.world.records)
        self.world.apply()
        return self.notifications.notices(self.world.tx, fresh)


def _item(shocker: UUID, kind: str = "Vibrate", intensity: int = 30) -> ControlItem:
    return ControlItem(shocker_id=shocker, type=kind, intensity=intensity, duration=1000)


def test_a_control_request_is_one_log_per_owner_with_its_sender() -> None:
    world = people()
    hub = add_hub(world, "Home")
    first, second = add_shocker(world, hub, "Left", 1), add_shocker(world, hub, "Right", 2)
    told = Told(world)
    told()
    world.run(
        ControlShockers(
            caller=session(ALICE),
            items=(_item(first, "Shock", 10), _item(second)),
            custom_name="ShockOSC",
            context=CommandContext(
                actor_id=str(ALICE), actor_kind="user", credential_id="grant-9", correlation_id="c1"
            ),
        )
    )
    [log] = told()
    assert log.audience == ToUser(str(ALICE)) and log.target == "Log"
    sender, logs = log.arguments
    assert sender["id"] == str(ALICE) and sender["name"] == "Alice"
    assert sender["image"].startswith("https://www.gravatar.com/avatar/")
    assert sender["customName"] == "ShockOSC" and sender["connectionId"] == "c1"
    # A session's credential is no API token.
    assert sender["additionalItems"] == {}
    assert [(x["shocker"]["name"], x["type"], x["intensity"]) for x in logs] == [
        ("Left", 1, 10),
        ("Right", 2, 30),
    ]
    assert logs[0]["duration"] == 1000 and logs[0]["executedAt"].endswith("Z")


def test_a_tokens_control_names_the_token_and_a_shared_shocker_logs_to_its_owner() -> None:
    world = people()
    hub = add_hub(world, "Home")
    shocker = add_shocker(world, hub, "Left")
    share_by_invite(world, [shocker], BOB)
    told = Told(world)
    told()
    world.connection.execute(
        "INSERT INTO view_api_tokens_v2 (id, name, owner, permissions, created_at)"
        " VALUES ('token-1', 't', ?, '[]', '2026-01-01')",
        (str(BOB),),
    )
    world.run(
        ControlShockers(
            caller=token(Permission.SHOCKERS_USE, user=BOB),
            items=(_item(shocker),),
            context=CommandContext(actor_id=str(BOB), actor_kind="user", credential_id="token-1"),
        )
    )
    [log] = told()
    assert log.audience == ToUser(str(ALICE))
    sender, _ = log.arguments
    assert sender["name"] == "Bob" and sender["additionalItems"] == {"apiTokenId": "token-1"}


def test_a_share_link_guest_is_the_guest_with_the_link() -> None:
    world = people()
    hub = add_hub(world, "Home")
    shocker = add_shocker(world, hub, "Left")
    link = new_link(world, "Party")
    told = Told(world)
    add(world, link, shocker)
    [updated] = told()
    assert updated == Delivery(ToShareLink(str(link)), "Updated", ())
    world.run(
        ControlThroughShareLink(
            share_link_id=link,
            user_id=None,
            guest_name="Mallory",
            items=(_item(shocker),),
            now=NOW,
            context=CommandContext(actor_id=GUEST_ID, actor_kind="share_link_guest"),
        )
    )
    [log] = told()
    sender, _ = log.arguments
    assert (sender["id"], sender["name"], sender["customName"]) == (GUEST_ID, "Guest", "Mallory")
    assert sender["additionalItems"] == {"shareLinkId": str(link)}


def _connect(world: LoggedWorld, hub: UUID, session_id: str) -> None:
    world.run(
        RecordHubConnected(
            hub_id=hub,
            session_id=session_id,
            node_id="n1",
            schema=2,
            firmware_version="1.5.1",
            user_agent="fw",
            context=context(),
        )
    )


def _pong(world: LoggedWorld, hub: UUID, session_id: str) -> None:
    world.run(
        RecordHubLatency(
            hub_id=hub, session_id=session_id, latency_ms=20, rssi=-60, context=context()
        )
    )


def _status(hub: UUID, online: bool, firmware: str | None) -> Delivery:
    state = {"device": str(hub), "online": online, "firmwareVersion": firmware}
    return Delivery(HubWatchers(str(hub), str(ALICE)), "DeviceStatus", ([state],))


def test_a_hub_is_online_from_its_sessions_first_pong_until_it_ends() -> None:
    world = people()
    hub = add_hub(world, "Home")
    told = Told(world)
    told()
    _connect(world, hub, "s1")
    assert told() == []  # connected is not online yet
    world.run(
        RecordHubBoot(
            hub_id=hub,
            session_id="s1",
            boot_type=0,
            firmware_version="1.5.2",
            ota_update_id=0,
            context=context(),
        )
    )
    _pong(world, hub, "s1")
    assert told() == [_status(hub, True, "1.5.2")]
    _pong(world, hub, "s1")
    assert told() == []  # only the first of a session
    _connect(world, hub, "s2")  # the hub came back before its old socket was seen closing
    assert told() == [_status(hub, False, "1.5.1")]
    _pong(world, hub, "s2")
    world.run(RecordHubDisconnected(hub_id=hub, session_id="s2", reason="gone", context=context()))
    assert told() == [_status(hub, True, "1.5.1"), _status(hub, False, "1.5.1")]


def test_a_link_first_heard_of_mid_session_is_read_from_the_view() -> None:
    world = people()
    hub = add_hub(world, "Home")
    _connect(world, hub, "s1")
    world.apply()
    late = Told(world)  # a node started after the hub connected
    _pong(world, hub, "s1")
    assert late() == [_status(hub, True, "1.5.1")]


def test_firmware_updates_are_told_to_the_owner() -> None:
    world = people()
    hub = add_hub(world, "Home")
    _connect(world, hub, "s1")
    told = Told(world)
    told()
    world.run(RequestOtaInstall(caller=session(), hub_id=hub, version="1.6.0", context=context()))
    update = 17  # the hub's own id for the update, in its OtaUpdateStarted
    world.run(
        RecordOtaStarted(
            hub_id=hub,
            session_id="s1",
            update_id=update,
            version="1.6.0",
            now=NOW,
            context=context(),
        )
    )
    world.run(
        RecordOtaProgress(
            hub_id=hub, session_id="s1", update_id=update, task=4, progress=0.5, context=context()
        )
    )
    world.run(
        RecordOtaFailed(
            hub_id=hub,
            session_id="s1",
            update_id=update,
            message="no",
            fatal=True,
            context=context(),
        )
    )
    owner, device = ToUser(str(ALICE)), str(hub)
    assert told() == [
        Delivery(owner, "OtaInstallStarted", (device, update, "1.6.0")),
        Delivery(owner, "OtaInstallProgress", (device, update, 4, 0.5)),
        Delivery(owner, "OtaInstallFailed", (device, update, True, "no")),
    ]


def test_hub_changes_are_device_updates_and_shares_change_who_watches() -> None:
    world = people()
    told = Told(world)
    hub = add_hub(world, "Home")
    created = told()
    assert Delivery(HubWatchers(str(hub), str(ALICE)), "DeviceUpdate", (str(hub), 0)) in created
    shocker = add_shocker(world, hub, "Left")
    assert told() == [Delivery(HubWatchers(str(hub), None), "DeviceUpdate", (str(hub), 2))]
    world.run(RenameHub(caller=session(), hub_id=hub, name="Attic", context=context()))
    assert told() == [Delivery(HubWatchers(str(hub), None), "DeviceUpdate", (str(hub), 1))]
    share_by_invite(world, [shocker], BOB)
    assert AccessChanged(str(BOB)) in told()


def test_an_owner_pausing_a_linked_shocker_updates_the_links_guests() -> None:
    world = people()
    hub = add_hub(world, "Home")
    shocker = add_shocker(world, hub, "Left")
    elsewhere = add_shocker(world, hub, "Right", 2)
    link = new_link(world, "Party")
    add(world, link, shocker)
    told = Told(world)
    told()
    world.run(PauseShocker(caller=session(), shocker_id=shocker, paused=True, context=context()))
    assert told() == [Delivery(ToShareLink(str(link)), "Updated", ())]
    world.run(PauseShocker(caller=session(), shocker_id=elsewhere, paused=True, context=context()))
    assert told() == []
