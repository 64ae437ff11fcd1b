"""Snapshots: long-lived aggregates load cold from a snapshot plus the events after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.context import CommandContext
from domain.deviceauth.commands import ClearDevicePublicKey, SetDevicePublicKey
from domain.deviceauth.device_access import DeviceAccess, device_access_id
from domain.identity.commands import (
    RecordLogin,
    RegisterClient,
    RegisterUser,
    RotateClientSecret,
    UpdateAccount,
)
from domain.identity.oauth_client import OAuthClient, oauth_client_id
from domain.identity.user import User, user_id
from domain.thermostats.commands import RegisterThermostat, SetMode
from domain.thermostats.thermostat import Mode, Thermostat, thermostat_id
from infra.command_bus import CommandBus
from infra.root.services import HANDLERS
from infra.settings import Settings
from infra.store.event_store import EventStore
from infra.store.snapshots import DEFAULT_INTERVAL
from tests.integration.running import settings_for
from tests.keys import make_key

CLI = CommandContext(actor_id="test", actor_kind="cli")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def store_with_user(settings: Settings, email: str) -> tuple[EventStore, CommandBus, str]:
    store = EventStore(settings)
    bus = CommandBus(store.app, HANDLERS)
    subject = bus.execute_now(RegisterUser(email=email, name="S", password_hash="h", context=CLI))
    return store, bus, str(subject)


def test_a_thermostat_with_many_changes_loads_cold_from_its_snapshot(
    deployment: dict[str, str],
) -> None:
    settings = settings_for(deployment)
    store, bus, owner = store_with_user(settings, "snap@example.com")
    bus.execute_now(RegisterThermostat(serial_number="SNAP1", owner=owner, name="", context=CLI))
    for n in range(2 * DEFAULT_INTERVAL + 10):
        bus.execute_now(
            SetMode(
                serial_number="SNAP1",
                user=owner,
                mode=Mode.HOLD if n % 2 else Mode.MANUAL,
                temperature=1500 + n,
                hold_until=NOW + timedelta(hours=1) if n % 2 else None,
                now=NOW,
                context=CLI,
            )
        )
    hot = store.app.repository.get(thermostat_id("SNAP1"))
    store.close()

    cold_store = EventStore(settings)
    try:
        assert cold_store.app.snapshots is not None
        (latest,) = cold_store.app.snapshots.get(thermostat_id("SNAP1"), desc=True, limit=1)
        assert latest.originator_version == 2 * DEFAULT_INTERVAL
        cold = cold_store.app.repository.get(thermostat_id("SNAP1"))
        assert isinstance(cold, Thermostat)
        assert cold.version == hot.version == 2 * DEFAULT_INTERVAL + 11
        assert vars(cold) | {"_pending_events": []} == vars(hot) | {"_pending_events": []}
        assert type(cold.mode) is type(hot.mode)
    finally:
        cold_store.close()


def test_every_long_lived_kind_survives_a_snapshot_round_trip(
    deployment: dict[str, str],
) -> None:
    """Kinds that gather events for ever: a snapshot is written and read back as the kind."""
    email = "kinds@example.com"
    store, bus, subject = store_with_user(settings_for(deployment), email)
    bus.execute_now(RegisterThermostat(serial_number="KIND1", owner=subject, name="", context=CLI))
    key = make_key("ed25519").pem
    bus.execute_now(
        RegisterClient(
            client_id="kinds",
            name="K",
            public=False,
            redirect_uris=(),
            grant_types=("client_credentials",),
            scopes=("restapi",),
            secret_hash="s",
            context=CLI,
        )
    )
    for n in range(DEFAULT_INTERVAL):
        bus.execute_now(
            RotateClientSecret(
                client_id="kinds",
                secret_hash=f"s{n}",
                previous_valid_until=NOW + timedelta(minutes=n),
                context=CLI,
            )
        )
        bus.execute_now(RecordLogin(email=email, succeeded=n % 3 == 0, at=NOW, context=CLI))
        bus.execute_now(
            ClearDevicePublicKey(device_identifier="KIND-DEV", context=CLI)
            if n % 2
            else SetDevicePublicKey(device_identifier="KIND-DEV", public_key=key, context=CLI)
        )
        bus.execute_now(
            UpdateAccount(subject=subject, language="nb" if n % 2 else "en", context=CLI)
        )
    expected = {
        user_id(email): User,
        device_access_id("KIND-DEV"): DeviceAccess,
        oauth_client_id("kinds"): OAuthClient,
    }
    try:
        assert store.app.snapshots is not None
        for aggregate_id, kind in expected.items():
            snapshots = list(store.app.snapshots.get(aggregate_id))
            assert snapshots, f"no snapshot of {kind.__name__}"
            restored = snapshots[-1].mutate(None)  # type: ignore[attr-defined]
            assert isinstance(restored, kind)
    finally:
        store.close()
