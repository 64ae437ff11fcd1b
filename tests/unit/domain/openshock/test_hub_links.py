"""A hub's link: sessions, online at the first latency, reports of an old session ignored,
boots ending updates, what its owner tells it, live ticks."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.context import CommandContext
from domain.openshock.control import LiveControlTick
from domain.openshock.errors import HubNotFound, InvalidRequest
from domain.openshock.hub_link import HubLink, OtaStatus, TriggerKind, hub_link_id
from domain.openshock.hub_link_commands import (
    LiveCommand,
    RecordHubBoot,
    RecordHubConnected,
    RecordHubDisconnected,
    RecordHubLatency,
    RecordOtaStarted,
    RequestOtaInstall,
    SendLiveTick,
    TriggerHub,
)
from domain.openshock.hub_link_handlers import is_semver
from tests.unit.domain.openshock.world import (
    BOB,
    NOW,
    add_hub,
    add_shocker,
    context,
    new_world,
    session,
    token,
)
from tests.unit.fakes import MemoryUnitOfWork

HUB = CommandContext(actor_id="hub", actor_kind="device")


def _connect(uow: MemoryUnitOfWork, hub_id: UUID, session_id: str) -> None:
    uow.run(
        RecordHubConnected(
            hub_id=hub_id,
            session_id=session_id,
            node_id="node-a",
            schema=2,
            firmware_version="1.5.2",
            user_agent="OpenShock/1.5.2",
            context=HUB,
        )
    )


def _link(uow: MemoryUnitOfWork, hub_id: UUID) -> HubLink:
    link = uow.get(HubLink, hub_link_id(str(hub_id)))
    assert link is not None
    return link


def test_online_from_the_first_latency_until_its_session_ends() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    _connect(uow, hub_id, "s1")
    assert not _link(uow, hub_id).online
    uow.run(RecordHubLatency(hub_id=hub_id, session_id="s1", latency_ms=12, rssi=-50, context=HUB))
    assert _link(uow, hub_id).online
    uow.run(RecordHubDisconnected(hub_id=hub_id, session_id="s1", reason="bye", context=HUB))
    assert not _link(uow, hub_id).online


def test_an_old_sessions_reports_and_goodbye_change_nothing() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    _connect(uow, hub_id, "old")
    _connect(uow, hub_id, "new")
    uow.run(RecordHubLatency(hub_id=hub_id, session_id="new", latency_ms=5, rssi=0, context=HUB))
    uow.run(RecordHubDisconnected(hub_id=hub_id, session_id="old", reason="late", context=HUB))
    uow.run(RecordHubLatency(hub_id=hub_id, session_id="old", latency_ms=900, rssi=0, context=HUB))
    link = _link(uow, hub_id)
    assert link.online and link.session_id == "new" and link.latency_ms == 5


def test_a_deleted_or_unknown_hub_cannot_connect() -> None:
    uow = new_world()
    with pytest.raises(HubNotFound):
        _connect(uow, UUID(int=7), "s1")


def test_a_boot_on_new_firmware_finishes_the_pending_update_and_a_normal_boot_rolls_it_back() -> (
    None
):
    uow = new_world()
    hub_id = add_hub(uow)
    _connect(uow, hub_id, "s1")
    uow.run(RequestOtaInstall(caller=session(), hub_id=hub_id, version="1.6.0", context=context()))
    # The hub names the update (its OtaUpdateStarted), as the real firmware does.
    uow.run(
        RecordOtaStarted(
            hub_id=hub_id, session_id="s1", update_id=41, version="1.6.0", now=NOW, context=HUB
        )
    )
    uow.run(
        RecordHubBoot(
            hub_id=hub_id,
            session_id="s1",
            boot_type=1,
            firmware_version="1.6.0",
            ota_update_id=41,
            context=HUB,
        )
    )
    uow.run(
        RecordOtaStarted(
            hub_id=hub_id, session_id="s1", update_id=42, version="1.6.1", now=NOW, context=HUB
        )
    )
    uow.run(
        RecordHubBoot(
            hub_id=hub_id,
            session_id="s1",
            boot_type=0,
            firmware_version="1.6.0",
            ota_update_id=42,
            context=HUB,
        )
    )
    link = _link(uow, hub_id)
    assert link.updates == {"41": OtaStatus.FINISHED, "42": OtaStatus.ERROR}
    assert link.firmware_version == "1.6.0"


def test_only_the_owner_tells_a_hub_to_restart_and_only_real_triggers() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    uow.run(
        TriggerHub(caller=session(), hub_id=hub_id, kind=TriggerKind.RESTART, context=context())
    )
    with pytest.raises(HubNotFound):
        uow.run(
            TriggerHub(
                caller=session(BOB), hub_id=hub_id, kind=TriggerKind.RESTART, context=context(BOB)
            )
        )
    with pytest.raises(InvalidRequest):
        uow.run(TriggerHub(caller=session(), hub_id=hub_id, kind=9, context=context()))
    with pytest.raises(InvalidRequest):
        uow.run(
            RequestOtaInstall(caller=token(), hub_id=hub_id, version="latest", context=context())
        )


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1.5.2", True),
        ("1.6.0-rc.1+build.7", True),
        ("65535.0.0", True),
        ("65536.0.0", False),
        ("01.2.3", False),
        ("1.2", False),
        ("v1.2.3", False),
        ("1.2.3-", False),
        ("1" * 70, False),
    ],
)
def test_versions_are_semver_with_uint16_numbers(text: str, valid: bool) -> None:
    assert is_semver(text) is valid


def test_a_live_tick_is_one_event_with_the_shockers_current_rf_ids() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    first = add_shocker(uow, hub_id, rf_id=11)
    second = add_shocker(uow, hub_id, rf_id=22)
    tick_id = uow.run(
        SendLiveTick(
            hub_id=hub_id,
            commands=(
                LiveCommand(shocker_id=first, type="Vibrate", intensity=30, duration=500),
                LiveCommand(shocker_id=second, type="Shock", intensity=5, duration=500),
                LiveCommand(shocker_id=UUID(int=3), type="Shock", intensity=5, duration=500),
            ),
            context=HUB,
        )
    )
    tick = uow.get(LiveControlTick, tick_id)
    assert tick is not None
    assert [(c["rf_id"], c["type"], c["intensity"]) for c in tick.commands] == [
        (11, "Vibrate", 30),
        (22, "Shock", 5),
    ]
