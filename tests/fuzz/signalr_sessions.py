"""SENZ's SignalR hub as the fuzzer's surfaces see it: sessions, probes, a well-behaved client."""

from __future__ import annotations

import json
from typing import Any

import httpx
import msgpack
from websockets.sync.client import ClientConnection

from tests.e2e.conftest import Stack
from tests.e2e.test_senz_api import put
from tests.fuzz.encodings import signalr_json_records, signalr_messagepack_messages
from tests.fuzz.frame_fuzzer import WEBSOCKET_CLOSE_CODES, open_websocket
from tests.fuzz.frames import Frame

HUB = "/v1/changenotifications"
RS = "\x1e"
# The server ends a SignalR session with a Close message (or a handshake error) and 1000.
SIGNALR_CLOSE_CODES = WEBSOCKET_CLOSE_CODES | {1000}


def unshaken(stack: Stack, token: str) -> ClientConnection:
    """A websocket before its handshake; without negotiation (skipNegotiation), which is
    not a frame parser and would only slow each reconnection down."""
    return open_websocket(f"{stack.ws_url}{HUB}?access_token={token}")


def session(stack: Stack, token: str, protocol: str) -> ClientConnection:
    connection = unshaken(stack, token)
    connection.send(json.dumps({"protocol": protocol, "version": 1}) + RS)
    assert connection.recv(timeout=10) == "{}" + RS
    return connection


def negotiated_session(stack: Stack, token: str) -> ClientConnection:
    negotiated = httpx.post(
        f"{stack.url}{HUB}/negotiate?negotiateVersion=1",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert negotiated.status_code == 200, negotiated.text
    key = negotiated.json()["connectionToken"]
    connection = open_websocket(f"{stack.ws_url}{HUB}?id={key}&access_token={token}")
    connection.send(json.dumps({"protocol": "json", "version": 1}) + RS)
    assert connection.recv(timeout=10) == "{}" + RS
    return connection


def probe_id(index: int) -> str:
    return f"probe-{index}"


def json_probe(index: int) -> Frame:
    invocation = {
        "type": 1,
        "invocationId": probe_id(index),
        "target": "Unsubscribe",
        "arguments": [[]],
    }
    return Frame(signalr_json_records(invocation), True, "probe")


def answers_json_probe(message: str | bytes, index: int) -> bool:
    if not isinstance(message, str):
        return False
    records = [json.loads(record) for record in message.split(RS) if record]
    return any(record.get("invocationId") == probe_id(index) for record in records)


def messagepack_probe(index: int) -> Frame:
    invocation = [1, {}, probe_id(index), "Unsubscribe", [[]]]
    return Frame(signalr_messagepack_messages(invocation), False, "probe")


def answers_messagepack_probe(message: str | bytes, index: int) -> bool:
    if not isinstance(message, bytes):
        return False
    return any(
        values[0] == 3 and values[2] == probe_id(index) for values in messagepack_messages(message)
    )


def messagepack_messages(data: bytes) -> list[list[Any]]:
    messages, offset = [], 0
    while offset < len(data):
        length = shift = 0
        while True:
            byte = data[offset]
            offset += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        messages.append(msgpack.unpackb(data[offset : offset + length]))
        offset += length
    return messages


def notified(stack: Stack, account: dict[str, str]) -> None:
    """A well-behaved client: negotiates, subscribes, and is told of its thermostat's change."""
    with negotiated_session(stack, account["token"]) as listener:
        subscribe = {"type": 1, "invocationId": "s", "target": "Subscribe", "arguments": [["2"]]}
        listener.send(json.dumps(subscribe) + RS)
        while not any(record.get("invocationId") == "s" for record in _records(listener)):
            pass
        changed = put(stack, account["token"], "auto", {"serialNumber": account["serial"]})
        assert changed.status_code == 204, changed.text
        while not any(record.get("target") == "Notify" for record in _records(listener)):
            pass


def _records(connection: ClientConnection) -> list[dict[str, Any]]:
    return [json.loads(record) for record in str(connection.recv(timeout=10)).split(RS) if record]
