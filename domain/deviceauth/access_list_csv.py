"""The access-list upload: `deviceIdentifier;base64(PEM public key)` per row.

Semicolon or comma, decided per row: neither may appear in an identifier or in base64,
so a row splits one way only. An optional header row, a UTF-8 BOM and any line ending
are tolerated. All or nothing: every malformed row is reported with its line number
and none is applied. A key that is valid base64 but not a usable public key is not a
malformed row: it is stored and leaves its device unknown.

The file is read in chunks as it arrives and at most one line is held: a line longer
than any valid row is refused without being kept, so a huge upload costs the rows that
passed (the caller decides where they go) and the identifiers seen (to find repeats).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from domain.deviceauth.identifiers import MAX_LENGTH as MAX_IDENTIFIER_LENGTH
from domain.deviceauth.identifiers import normalise_device_identifier
from domain.deviceauth.public_keys import (
    MAX_KEY_TEXT_LENGTH,
    KeyProblem,
    inspect_public_key,
    is_valid_base64,
)

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Only these three: str.splitlines() also breaks on form feeds and Unicode separators,
# which would shift line numbers away from what an editor shows.
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_SEPARATOR = re.compile(r"[;,]")
_IDENTIFIER_HEADERS = frozenset({"deviceidentifier", "deviceid", "identifier", "device", "id"})
_KEY_HEADERS = frozenset({"publickey", "pubkey", "key"})
_ERRORS_IN_MESSAGE = 20
# Enough to name what is wrong with a file; the rest are counted, not kept.
ERRORS_KEPT = 1000
# The longest line a valid row can be: both columns, quoted, with room for spaces around.
MAX_LINE_BYTES = MAX_IDENTIFIER_LENGTH + MAX_KEY_TEXT_LENGTH + 64


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
    """`errors` holds the first ERRORS_KEPT problems; `count` says how many there were."""

    def __init__(self, errors: Iterable[RowError], count: int | None = None) -> None:
        self.errors = tuple(errors)
        self.count = len(self.errors) if count is None else count
        super().__init__(_describe(self.errors, self.count))


def parse_access_list(data: bytes) -> list[AccessListRow]:
    """A whole file at once; raises AccessListRejected if any row is malformed."""
    parser = AccessListParser()
    rows = parser.feed(data)
    rows += parser.finish()
    return rows


class AccessListParser:
    """Reads an upload chunk by chunk: `feed` returns the rows each chunk completed and
    `finish` raises AccessListRejected if any row anywhere was malformed, so a caller
    applies nothing before `finish` returned."""

    def __init__(self) -> None:
        self._start = bytearray()  # the first bytes, until the BOM is known
        self._started = False
        self._refused_whole = False  # a UTF-16 file: no line of it can be read as UTF-8
        self._pending = bytearray()  # the line being read
        self._overlong = False  # the line being read is already too long; skipped to its end
        self._after_cr = False  # the last chunk ended on CR: a LF opening the next ends nothing
        self._line = 0
        self._header_allowed = True
        self._first_line_of: dict[str, int] = {}
        self._errors: list[RowError] = []
        self._error_count = 0

    def feed(self, chunk: bytes) -> list[AccessListRow]:
        if not self._started:
            self._start += chunk
            if len(self._start) < len(_UTF8_BOM):
                return []
            chunk = self._begin()
        return self._split(chunk)

    def finish(self) -> list[AccessListRow]:
        rows = [] if self._started else self._split(self._begin())
        if (self._pending or self._overlong) and not self._refused_whole:
            self._end_line(rows)
        if not self._first_line_of and not self._error_count:
            self._error(RowError(0, "the file holds no rows"))
        if self._error_count:
            raise AccessListRejected(self._errors, self._error_count)
        return rows

    def _begin(self) -> bytes:
        self._started = True
        data, self._start = bytes(self._start), bytearray()
        if data.startswith(_UTF16_BOMS):
            self._error(RowError(0, "the file is UTF-16; save it as UTF-8"))
            self._refused_whole = True
            return b""
        return data.removeprefix(_UTF8_BOM)

    def _split(self, chunk: bytes) -> list[AccessListRow]:
        if self._refused_whole:
            return []
        rows: list[AccessListRow] = []
        start = 0
        if self._after_cr and chunk.startswith(b"\n"):
            start = 1
        self._after_cr = False
        for match in _LINE_BREAK.finditer(chunk, start):
            self._take(chunk, start, match.start())
            self._end_line(rows)
            start = match.end()
            self._after_cr = match.group() == b"\r" and start == len(chunk)
        self._take(chunk, start, len(chunk))
        return rows

    def _take(self, chunk: bytes, start: int, end: int) -> None:
        if self._overlong:
            return
        if len(self._pending) + end - start > MAX_LINE_BYTES:
            self._overlong = True
            self._pending.clear()
            return
        self._pending += chunk[start:end]

    def _end_line(self, rows: list[AccessListRow]) -> None:
        self._line += 1
        raw, self._pending = bytes(self._pending), bytearray()
        if self._overlong:
            self._overlong = False
            self._header_allowed = False
            message = (
                f"the line is longer than {MAX_LINE_BYTES} bytes; a public key may have at"
                f" most {MAX_KEY_TEXT_LENGTH} characters"
            )
            self._error(RowError(self._line, message))
            return
        row = self._row(raw)
        if row is not None:
            rows.append(row)

    def _row(self, raw: bytes) -> AccessListRow | None:
        number = self._line
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            self._error(RowError(number, "the line is not valid UTF-8"))
            self._header_allowed = False
            return None
        if not text:
            return None
        fields = [_unquote(field) for field in _SEPARATOR.split(text)]
        if self._header_allowed and _is_header(fields):
            self._header_allowed = False
            return None
        self._header_allowed = False
        row = _parse_row(number, fields, self._error)
        if row is None:
            return None
        earlier = self._first_line_of.setdefault(row.device_identifier, number)
        if earlier != number:
            message = f"device identifier {row.device_identifier} is also on line {earlier}"
            self._error(RowError(number, message))
            return None
        return row if not self._error_count else None

    def _error(self, error: RowError) -> None:
        self._error_count += 1
        if len(self._errors) < ERRORS_KEPT:
            self._errors.append(error)


def _parse_row(
    number: int, fields: list[str], error: Callable[[RowError], None]
) -> AccessListRow | None:
    if len(fields) != 2:
        error(RowError(number, f"expected 2 columns, found {len(fields)}"))
        return None
    raw_identifier, public_key = fields
    try:
        identifier = normalise_device_identifier(raw_identifier)
    except ValueError as exc:
        error(RowError(number, str(exc)))
        return None
    if not public_key:
        error(RowError(number, "the public key column is empty"))
        return None
    if len(public_key) > MAX_KEY_TEXT_LENGTH:
        message = (
            f"the public key is {len(public_key)} characters long;"
            f" at most {MAX_KEY_TEXT_LENGTH} are allowed"
        )
        error(RowError(number, message))
        return None
    if not is_valid_base64(public_key):
        error(RowError(number, "public key is not valid base64"))
        return None
    if inspect_public_key(public_key).problem_code is KeyProblem.PRIVATE_KEY:
        # Refused here rather than by the handler, so that no earlier row is written first.
        error(RowError(number, "this is a private key; send only the public key"))
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


def _describe(errors: tuple[RowError, ...], count: int) -> str:
    # The list travels in `errors`; the message stays readable for a huge bad file.
    shown = "; ".join(f"line {e.line}: {e.message}" for e in errors[:_ERRORS_IN_MESSAGE])
    hidden = count - min(len(errors), _ERRORS_IN_MESSAGE)
    return shown if hidden <= 0 else f"{shown}; and {hidden} more"
