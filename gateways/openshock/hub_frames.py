"""OpenShock's hub websocket frames: one FlatBuffer per binary frame, both directions.

Schema 2 is the current protocol (`/2/ws/hub`: HubToGatewayMessage / GatewayToHubMessage),
schema 1 the legacy one (`/1/ws/device`: DeprecatedV1Messages.fbs). Everything is read and
built with the code flatc generated from the upstream schemas (gateways/openshock/wire/),
and reading is bound-checked, so any bytes at all give a message or a FrameError.

The server side reads hub messages and writes gateway messages; the hub side (the firmware
simulator, tests) does the opposite with `hub_frame` and `read_gateway_message`. This module
is the codec's one import; the messages, the reading and the building live in
hub_messages.py, hub_frame_reads.py and hub_frame_builds.py.
"""

from __future__ import annotations

from gateways.openshock.checked_reads import FrameError
from gateways.openshock.hub_frame_builds import (
    captive_portal_v1,
    command_list,
    hub_frame,
    ota_request,
    ping,
    trigger,
)
from gateways.openshock.hub_frame_reads import read_gateway_message, read_hub_message
from gateways.openshock.hub_messages import (
    MAX_FRAME_BYTES,
    BootStatus,
    GatewayCaptivePortal,
    GatewayCommands,
    GatewayMessage,
    GatewayOtaRequest,
    GatewayPing,
    GatewayTrigger,
    HubCommand,
    HubMessage,
    KeepAlive,
    OtaFailed,
    OtaProgress,
    OtaStarted,
    Pong,
    shifts_998dr_ids,
)

__all__ = [
    "MAX_FRAME_BYTES",
    "BootStatus",
    "FrameError",
    "GatewayCaptivePortal",
    "GatewayCommands",
    "GatewayMessage",
    "GatewayOtaRequest",
    "GatewayPing",
    "GatewayTrigger",
    "HubCommand",
    "HubMessage",
    "KeepAlive",
    "OtaFailed",
    "OtaProgress",
    "OtaStarted",
    "Pong",
    "captive_portal_v1",
    "command_list",
    "hub_frame",
    "ota_request",
    "ping",
    "read_gateway_message",
    "read_hub_message",
    "shifts_998dr_ids",
    "trigger",
]
