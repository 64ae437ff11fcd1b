"""The access-list upload: `deviceIdentifier;base64(PEM public key)` per row.

Semicolon or comma, decided per row: neither may appear in an identifier or in base64,
so a row splits one way only. An optional header row, a UTF-8 BOM and any line ending
are tolerated. All or nothing: every malformed row is reported with its line number
and none is applied. A key that is valid base64 but not a usable public key is not a
malformed row: it is stored and leaves its device unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from domain.deviceauth.identifiers import normalise_device_identifier
from domain.deviceauth.public_keys import is_valid_base64

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Only these three: str.splitlines() also breaks on form feeds and Unicode separators,
# which would shift line numbers away from what an editor shows.
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_SEPARATOR = re.compile(r"[;,]")
_IDENTIFIER_HEADERS = frozenset({"deviceidentifier", "deviceid", "identifier", "device", "id"})
_KEY_HEADERS = frozenset({"publickey", "pubkey", "key"})
_ERRORS_IN_MESSAGE = 20


@dataclass(frozen=True)
class AccessListRow:
    line: int
    device_identifier: str
    public_key: str


@dataclass(frozen=True)
class RowError:
    """Line 0 concerns the whole file."""

    line: int
    message: str


class AccessListRejected(Exception):
    def __init__(self, errors: Iterable[RowError]) -> None:
        self.errors = tuple(errors)
        super().__init__(_describe(self.errors))


def parse_access_list(data: bytes) -> list[AccessListRow]:
    if data.startswith(_UTF16_BOMS):
        raise AccessListRejected([RowError(0, "the file is UTF-16; save it as UTF-8")])
    rows: list[AccessListRow] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    header_allowed = True
    for number, raw in enumerate(_LINE_BREAK.split(data.removeprefix(_UTF8_BOM)), start=1):
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            errors.append(RowError(number, "the line is not valid UTF-8"))
            header_allowed = False
            continue
        if not text:
            continue
        fields = [_unquote(field) for field in _SEPARATOR.split(text)]
        if header_allowed and _is_header(fields):
            header_allowed = False
            continue
        header_allowed = False
        row = _parse_row(number, fields, errors)
        if row is None:
            continue
        earlier = first_line_of.setdefault(row.device_identifier, number)
        if earlier != number:
            message = f"device identifier {row.device_identifier} is also on line {earlier}"
            errors.append(RowError(number, message))
            continue
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
    if not is_valid_base64(public_key):
        errors.append(RowError(number, "public key is not valid base64"))
        return None
    return AccessListRow(number, identifier, public_key)


def _unquote(field: str) -> str:
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        field = field[1:-1].strip()
    return field


def _is_header(fields: list[str]) -> bool:
    # Both columns must look like titles, so a device really called "ID" is still a row.
    if len(fields) != 2:
        return False
    identifier, key = (re.sub(r"[\s_-]", "", field).lower() for field in fields)
    return identifier in _IDENTIFIER_HEADERS and key in _KEY_HEADERS


def _describe(errors: tuple[RowError, ...]) -> str:
    # The full list travels in `errors`; the message stays readable for a huge bad file.
    shown = "; ".join(f"line {e.line}: {e.message}" for e in errors[:_ERRORS_IN_MESSAGE])
    hidden = len(errors) - _ERRORS_IN_MESSAGE
    return shown if hidden <= 0 else f"{shown}; and {hidden} more"
