"""Unknown Pusher app ids and keys: answered from memory for a while, forgotten on creation.

A flood of requests for an app that does not exist must not read the store each time (the
HTTP API and the websocket gateway then read it in a thread only for names not held).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from domain.context import CommandContext
from domain.pusher.commands import CreatePusherApp
from infra.pusher import app_directory
from infra.pusher.credentials import seal_secret
from tests.integration.running import eventually, running_hub

pytestmark = pytest.mark.anyio

ADMIN = CommandContext(actor_id="test", actor_kind="system")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _CountedReads:
    """The directory's aggregate loader, counting the store reads it is asked for."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self.reads = 0
        self._lock = threading.Lock()

    def get(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.reads += 1
        return self._loader.get(*args, **kwargs)


async def test_unknown_apps_are_held_briefly_and_forgotten_on_creation(
    deployment: dict[str, str],
) -> None:
    async with running_hub(deployment) as hub:
        apps = hub.pusher_apps
        counted = _CountedReads(apps._aggregates)
        apps._aggregates = counted  # type: ignore[assignment]
        assert not apps.held("777001")
        for _ in range(50):
            assert apps.by_id("777001") is None
        assert counted.reads == 1
        assert apps.held("777001")
        assert apps.by_key("no-such-key") is None
        assert apps.held(key="no-such-key")

        secret = seal_secret(hub.secret_box, "s3cret")
        await hub.bus.execute(
            CreatePusherApp(
                app_id="777001", key="no-such-key", sealed_secret=secret, name="late",
                context=ADMIN,
            )
        )  # fmt: skip
        # This node's commit forgets the unknown id before the command is answered.
        assert not apps.held("777001")
        found = apps.by_id("777001")
        assert found is not None and found.name == "late"
        # The key: forgotten when the log feed shows the creation, found once the view has it.
        await eventually(lambda: apps.by_key("no-such-key") == found)


async def test_unknown_answers_expire_and_are_bounded(
    deployment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_directory, "MAX_UNKNOWN", 10)
    async with running_hub(deployment) as hub:
        apps = hub.pusher_apps
        for n in range(25):
            assert apps.by_id(str(900000 + n)) is None
        assert len(apps._unknown_ids) == 10
        # The newest are kept, the oldest forgotten first.
        assert apps.held("900024") and not apps.held("900000")
        monkeypatch.setattr(app_directory, "UNKNOWN_SECONDS", 0.0)
        assert apps.by_key("gone-soon") is None
        assert not apps.held(key="gone-soon")
