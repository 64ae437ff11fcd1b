"""Pusher apps in-process: declared in the settings file, found by key and id, kept exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.context import CommandContext
from domain.pusher.commands import SetPusherAppEnabled
from tests.integration.running import eventually, running_hub

pytestmark = pytest.mark.anyio

ADMIN = CommandContext(actor_id="test", actor_kind="system")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _declare(path: Path, **changes: object) -> str:
    app = {
        "app_id": "4242",
        "key": "declared-key",
        "secret": "declared-secret",
        "name": "declared",
        "limits": {"max_events_per_batch": 3},
        "webhooks": [{"url": "http://127.0.0.1:9/hook", "event_types": ["channel_occupied"]}],
        **changes,
    }
    path.write_text(json.dumps({"apps": [app]}))
    return str(path)


async def test_declared_apps_are_ensured_and_followed(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    file = _declare(tmp_path / "apps.json")
    async with running_hub({**deployment, "pusher_apps_file": file}) as hub:
        app = hub.pusher_apps.by_id("4242")
        assert app is not None and app.secret == "declared-secret" and app.enabled
        assert app.limits.max_events_per_batch == 3
        assert app.webhooks[0].event_types == ("channel_occupied",)
        # by key through the view, once the view has it
        await eventually(lambda: hub.pusher_apps.by_key("declared-key") == app)
        # A change is seen at once: this node's commit forgets what it kept.
        await hub.bus.execute(SetPusherAppEnabled(app_id="4242", enabled=False, context=ADMIN))
        disabled = hub.pusher_apps.by_id("4242")
        assert disabled is not None and not disabled.enabled
        assert hub.pusher_apps.by_id("4243") is None
        assert hub.pusher_apps.by_key("nobody") is None
    # Started again with a changed file: the app follows the file.
    file = _declare(tmp_path / "apps.json", secret="rotated", key="new-key", enabled=True)
    async with running_hub({**deployment, "pusher_apps_file": file}) as hub:
        app = hub.pusher_apps.by_id("4242")
        assert app is not None and (app.secret, app.key, app.enabled) == (
            "rotated",
            "new-key",
            True,
        )
        await eventually(lambda: hub.pusher_apps.by_key("new-key") == app)
        assert hub.pusher_apps.by_key("declared-key") is None


async def test_a_bad_settings_file_stops_the_start(tmp_path: Path) -> None:
    # Embedded only: a start that fails leaves no relay or worker thread behind.
    bad = tmp_path / "apps.json"
    flags = {"data_dir": str(tmp_path / "data"), "pusher_apps_file": str(bad)}
    bad.write_text(json.dumps({"apps": [{"app_id": "x1", "key": "k", "secret": "s"}]}))
    with pytest.raises(ValueError, match="1 to 20 digits"):
        async with running_hub(flags):
            pass
    bad.write_text(json.dumps({"apps": [{"app_id": "1", "key": "k", "secret": "s", "x": 1}]}))
    with pytest.raises(ValueError, match="unknown fields"):
        async with running_hub(flags):
            pass
