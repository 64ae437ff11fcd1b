"""The access-list upload: `deviceIdentifier;base64(PEM public key)` per row.

Semicolon or comma (base64 holds neither, so a row splits one way only), an optional
header row, BOM and any line ending. All or nothing: every malformed row is reported
with its line number and none is applied.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from domain.deviceauth.identifiers import normalise_device_identifier

_SEPARATOR = re.compile(r"[;,]")
_HEADER_WORDS = ("deviceidentifier", "device", "identifier", "id", "deviceid")


@dataclass(frozen=True)
class AccessListRow:
    line: int
    device_identifier: str
    public_key: str


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class AccessListRejected(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(f"line {e.line}: {e.message}" for e in self.errors))


def parse_access_list(data: bytes) -> list[AccessListRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AccessListRejected([RowError(line, "not UTF-8 text")]) from None
    rows: list[AccessListRow] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    seen_content = False
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.strip()
        if not content:
            continue
        fields = [_unquote(f) for f in _SEPARATOR.split(content)]
        if not seen_content and _is_header(fields):
            seen_content = True
            continue
        seen_content = True
        row = _parse_row(number, fields, errors)
        if row is None:
            continue
        earlier = first_line_of.get(row.device_identifier)
        if earlier is not None:
            message = f"{row.device_identifier} is already given on line {earlier}"
            errors.append(RowError(number, message))
            continue
        first_line_of[row.device_identifier] = number
        rows.append(row)
    if not rows and not errors:
        errors.append(RowError(0, "the file holds no rows"))
    if errors:
        raise AccessListRejected(errors)
    return rows


def _parse_row(number: int, fields: list[str], errors: list[RowError]) -> AccessListRow | None:
    if len(fields) != 2:
        errors.append(RowError(number, f"expected 2 columns, found {len(fields)}"))
        return None
    raw_identifier, public_key = fields
    try:
        identifier = normalise_device_identifier(raw_identifier)
    except ValueError as exc:
        errors.append(RowError(number, str(exc)))
        return None
    if not public_key:
        errors.append(RowError(number, "the public key column is empty"))
        return None
    if not _is_base64(public_key):
        errors.append(RowError(number, "the public key is not valid base64"))
        return None
    return AccessListRow(number, identifier, public_key)


def _unquote(field: str) -> str:
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        field = field[1:-1].strip()
    return field


def _is_header(fields: list[str]) -> bool:
    return bool(fields) and fields[0].lower().replace("_", "").replace(" ", "") in _HEADER_WORDS


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
