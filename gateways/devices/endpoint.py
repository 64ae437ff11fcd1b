"""/ws/devices/{deviceIdentifier}: devices connect here and prove their key (DeviceAuth)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

import orjson
from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from domain.context import CommandContext
from domain.deviceauth.commands import RecordChallengePassed, RecordConnectionRefused
from domain.deviceauth.device_access import DeviceAccess, device_access_id
from domain.deviceauth.identifiers import normalise_device_identifier
from domain.deviceauth.public_keys import verify_signature
from domain.errors import DomainError
from gateways.devices.thermostat_session import find_thermostat, thermostat_session
from gateways.json_frames import next_json_frame
from gateways.websocket_auth import hub_of
from infra.metrics import OPEN_CONNECTIONS

log = logging.getLogger(__name__)
router = APIRouter()

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
    limiter = hub_of(websocket).device_failures
    wait = await asyncio.to_thread(limiter.blocked, *keys)
    if wait > 0:
        await _reject(
            websocket, f"too many failed attempts; retry in {int(wait) + 1} s", RATE_LIMITED
        )
        return
    context = CommandContext(
        actor_id=identifier,
        actor_kind="device",
        source_address=address,
        correlation_id=secrets.token_hex(8),
    )
    OPEN_CONNECTIONS.labels(gateway="devices").inc()
    try:
        if hub_of(websocket).settings.device_auth_enforced:
            try:
                await _challenge(websocket, identifier, context)
            except AuthRejected as rejected:
                await asyncio.to_thread(limiter.record_failure, *keys)
                if rejected.record:
                    await _record_refusal(websocket, identifier, rejected.reason, context)
                await _reject(websocket, rejected.reason, REJECTED)
                return
        await websocket.send_text('{"type":"DEVICE_AUTH_ACCEPTED"}')
        hub = hub_of(websocket)
        thermostat = await asyncio.to_thread(find_thermostat, hub, identifier)
        if thermostat is not None:
            await thermostat_session(websocket, hub, thermostat, context)
        else:
            await _session(websocket)
    except WebSocketDisconnect:
        pass
    finally:
        OPEN_CONNECTIONS.labels(gateway="devices").dec()


async def _challenge(websocket: WebSocket, identifier: str, context: CommandContext) -> None:
    hub = hub_of(websocket)
    device = await asyncio.to_thread(_load_device, websocket, identifier)
    if device is None or device.public_key is None:
        raise AuthRejected("no public key is registered for this device")
    if not device.key_usable:
        raise AuthRejected(f"the registered public key is not usable: {device.key_problem}")
    public_key = device.public_key
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    ttl = hub.settings.challenge_ttl_seconds
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
        await hub.execute(
            RecordChallengePassed(
                device_identifier=identifier, public_key=public_key, context=context
            )
        )
    except DomainError as exc:
        raise AuthRejected(str(exc)) from exc


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


def _load_device(websocket: WebSocket, identifier: str) -> DeviceAccess | None:
    try:
        device: object = hub_of(websocket).store.app.repository.get(device_access_id(identifier))
    except AggregateNotFoundError:
        return None
    return device if isinstance(device, DeviceAccess) else None


async def _record_refusal(
    websocket: WebSocket, identifier: str, reason: str, context: CommandContext
) -> None:
    try:
        await hub_of(websocket).execute(
            RecordConnectionRefused(device_identifier=identifier, reason=reason, context=context)
        )
    except Exception:
        log.exception("could not record a refused connection of %s", identifier)


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
