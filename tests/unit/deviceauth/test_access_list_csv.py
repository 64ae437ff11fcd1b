"""The CSV upload: what integrators send, and every way a file is refused whole."""

from __future__ import annotations

import pytest

from domain.deviceauth.access_list_csv import AccessListRejected, parse_access_list
from tests.unit.deviceauth.test_public_keys import SEED_EXAMPLE_KEY


def errors_of(data: bytes) -> list[tuple[int, str]]:
    with pytest.raises(AccessListRejected) as rejected:
        parse_access_list(data)
    return [(e.line, e.message) for e in rejected.value.errors]


def test_the_seed_example_row() -> None:
    (row,) = parse_access_list(f"809212389122821;{SEED_EXAMPLE_KEY}".encode())
    assert row.device_identifier == "809212389122821"
    assert row.public_key == SEED_EXAMPLE_KEY


def test_bom_crlf_header_blank_lines_quotes_and_commas() -> None:
    data = b'\xef\xbb\xbfDeviceIdentifier;PublicKey\r\nabc;QUJD\r\n\r\n"def","REVG"\rxyz , QUJD \n'
    rows = parse_access_list(data)
    assert [(r.line, r.device_identifier, r.public_key) for r in rows] == [
        (2, "ABC", "QUJD"),
        (4, "DEF", "REVG"),
        (5, "XYZ", "QUJD"),
    ]


def test_every_malformed_row_is_named() -> None:
    data = b"ok;QUJD\nonly-one\na;b;c\n;QUJD\nbad id;QUJD\nempty;\nnot;b64!\n"
    assert [line for line, _ in errors_of(data)] == [2, 3, 4, 5, 6, 7]


def test_a_header_only_counts_on_the_first_line() -> None:
    assert errors_of(b"abc;QUJD\ndeviceIdentifier;publicKey\n")[0][0] == 2


def test_duplicates_name_both_lines() -> None:
    ((line, message),) = errors_of(b"abc;QUJD\nABC;REVG\n")
    assert line == 2 and "line 1" in message


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"deviceIdentifier;publicKey\n"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert errors_of(data) == [(0, "the file holds no rows")]


def test_invalid_utf8_names_its_line() -> None:
    ((line, message),) = errors_of(b"abc;QUJD\nd\xffef;QUJD\n")
    assert line == 2 and "UTF-8" in message


def test_a_decodable_but_unusable_key_is_not_a_csv_error() -> None:
    (row,) = parse_access_list(b"abc;QUJD")
    assert row.public_key == "QUJD"
