"""/ws/devices/{deviceIdentifier}: devices connect here and prove their key (DeviceAuth)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from domain.context import CommandContext
from domain.deviceauth.commands import RecordChallengePassed, RecordConnectionRefused
from domain.deviceauth.device_access import DeviceAccess, device_access_id
from domain.deviceauth.identifiers import normalise_device_identifier
from domain.deviceauth.public_keys import verify_signature
from domain.errors import DomainError
from domain.principals.permissions import Principal
from gateways.devices.thermostat_session import ThermostatSessions
from gateways.json_frames import next_json_frame
from infra.command_bus import CommandBus
from infra.limits.failure_limiter import FailureLimiter
from infra.metrics import OPEN_CONNECTIONS
from infra.request_context import command_context
from infra.store.aggregates import AggregateLoader

log = logging.getLogger(__name__)
CHALLENGE_BYTES = 32
REJECTED = 4401
RATE_LIMITED = 4429
BAD_IDENTIFIER = 4400


_UNSUPPORTED_FRAME = orjson.dumps(
    {"type": "ERROR", "message": 'unsupported frame; the session accepts {"type":"PING"}'}
).decode()


class AuthRejected(Exception):
    def __init__(self, reason: str, record: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        # Whether the refusal is worth an event (an auditor's question), or only a count.
        self.record = record


@dataclass(frozen=True)
class DeviceGatewaySettings:
    # Whether devices must pass the DeviceAuth challenge to connect.
    enforced: bool
    challenge_ttl_seconds: float


def device_gateway(
    settings: DeviceGatewaySettings,
    bus: CommandBus,
    aggregates: AggregateLoader,
    failures: FailureLimiter,
    thermostats: ThermostatSessions,
) -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws/devices/{deviceIdentifier}")
    async def device_socket(websocket: WebSocket, deviceIdentifier: str) -> None:
        await websocket.accept()
        try:
            identifier = normalise_device_identifier(deviceIdentifier)
        except ValueError as exc:
            await _reject(websocket, str(exc), BAD_IDENTIFIER)
            return
        address = websocket.client.host if websocket.client else "unknown"
        keys = (f"device:{identifier}", f"address:{address}")
        wait = await asyncio.to_thread(failures.blocked, *keys)
        if wait > 0:
            await _reject(
                websocket, f"too many failed attempts; retry in {int(wait) + 1} s", RATE_LIMITED
            )
            return
        context = command_context(websocket, Principal(identifier, "device", frozenset()))
        OPEN_CONNECTIONS.labels(gateway="devices").inc()
        try:
            if settings.enforced:
                try:
                    await challenge(websocket, identifier, context)
                except AuthRejected as rejected:
                    await asyncio.to_thread(failures.record_failure, *keys)
                    if rejected.record:
                        await record_refusal(identifier, rejected.reason, context)
                    await _reject(websocket, rejected.reason, REJECTED)
                    return
            await websocket.send_text('{"type":"DEVICE_AUTH_ACCEPTED"}')
            if not await thermostats.serve(websocket, identifier, context):
                await _session(websocket)
        except WebSocketDisconnect:
            pass
        finally:
            OPEN_CONNECTIONS.labels(gateway="devices").dec()

    async def challenge(websocket: WebSocket, identifier: str, context: CommandContext) -> None:
        device = await asyncio.to_thread(aggregates.get, DeviceAccess, device_access_id(identifier))
        if device is None or device.public_key is None:
            raise AuthRejected("no public key is registered for this device")
        if not device.key_usable:
            raise AuthRejected(f"the registered public key is not usable: {device.key_problem}")
        public_key = device.public_key
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        ttl = settings.challenge_ttl_seconds
        expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
        await websocket.send_text(
            orjson.dumps(
                {
                    "type": "DEVICE_AUTH_CHALLENGE",
                    "challenge": base64.b64encode(challenge).decode(),
                    "expiresAt": expires_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                }
            ).decode()
        )
        try:
            message = await asyncio.wait_for(websocket.receive(), timeout=ttl)
        except TimeoutError:
            raise AuthRejected("the challenge expired before a response arrived") from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if datetime.now(UTC) > expires_at:
            raise AuthRejected("the challenge expired before a response arrived")
        signature = _signature_from(message.get("text") or message.get("bytes"))
        # The challenge lives only in this handler and is answered once: a signature
        # recorded from an earlier connection is over other bytes and fails here.
        if not await asyncio.to_thread(verify_signature, public_key, signature, challenge):
            raise AuthRejected("the signature does not verify with the registered public key")
        try:
            await bus.execute(
                RecordChallengePassed(
                    device_identifier=identifier, public_key=public_key, context=context
                )
            )
        except DomainError as exc:
            raise AuthRejected(str(exc)) from exc

    async def record_refusal(identifier: str, reason: str, context: CommandContext) -> None:
        try:
            await bus.execute(
                RecordConnectionRefused(
                    device_identifier=identifier, reason=reason, context=context
                )
            )
        except Exception:
            log.exception("could not record a refused connection of %s", identifier)

    return router


def _signature_from(frame: str | bytes | None) -> bytes:
    try:
        data = orjson.loads(frame or b"")
    except orjson.JSONDecodeError:
        raise AuthRejected("malformed response: not JSON", record=False) from None
    if not isinstance(data, dict) or data.get("type") != "DEVICE_AUTH_RESPONSE":
        raise AuthRejected('malformed response: expected type "DEVICE_AUTH_RESPONSE"', record=False)
    raw = data.get("signature")
    if not isinstance(raw, str) or not raw:
        raise AuthRejected("malformed response: signature must be a base64 string", record=False)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise AuthRejected(
            "malformed response: signature is not valid base64", record=False
        ) from None


async def _reject(websocket: WebSocket, reason: str, code: int) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_text(
            orjson.dumps({"type": "DEVICE_AUTH_REJECTED", "reason": reason}).decode()
        )
        await websocket.close(code=code, reason=reason[:120])


async def _session(websocket: WebSocket) -> None:
    """The device's session after it is accepted; later surfaces add their frames here."""
    while True:
        frame = await next_json_frame(websocket)
        if isinstance(frame, dict) and frame.get("type") == "PING":
            await websocket.send_text('{"type":"PONG"}')
        else:
            await websocket.send_text(_UNSUPPORTED_FRAME)
