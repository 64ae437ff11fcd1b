"""The CSV upload: what integrators send, and every way a file is refused whole."""

from __future__ import annotations

import pytest

from domain.deviceauth.access_list_csv import (
    AccessListRejected,
    AccessListRow,
    RowError,
    parse_access_list,
)
from domain.deviceauth.identifiers import normalise_device_identifier
from domain.deviceauth.public_keys import inspect_public_key
from tests.keys import SUPPORTED_KINDS, make_key
from tests.unit.deviceauth.test_public_keys import SEED_EXAMPLE_KEY


def errors_of(data: bytes) -> list[tuple[int, str]]:
    with pytest.raises(AccessListRejected) as rejected:
        parse_access_list(data)
    return [(e.line, e.message) for e in rejected.value.errors]


def parsed(data: bytes) -> list[tuple[int, str, str]]:
    return [(r.line, r.device_identifier, r.public_key) for r in parse_access_list(data)]


def test_the_seed_example_row() -> None:
    (row,) = parse_access_list(f"809212389122821;{SEED_EXAMPLE_KEY}".encode())
    assert row == AccessListRow(1, "809212389122821", SEED_EXAMPLE_KEY)
    # A row, but not a key: the device is stored and stays unknown.
    assert not inspect_public_key(row.public_key).usable


def test_real_keys_of_every_kind_come_through_unchanged() -> None:
    keys = {f"device-{kind}": make_key(kind).b64_pem for kind in SUPPORTED_KINDS}
    data = "\n".join(f"{identifier};{key}" for identifier, key in keys.items()).encode()
    rows = parse_access_list(data)
    assert [(r.device_identifier, r.public_key) for r in rows] == [
        (identifier.upper(), key) for identifier, key in keys.items()
    ]
    assert all(inspect_public_key(r.public_key).usable for r in rows)


def test_bom_crlf_and_header() -> None:
    data = b"\xef\xbb\xbfdeviceIdentifier;publicKey\r\nabc;QUJD\r\ndef;REVG\r\n"
    assert parsed(data) == [(2, "ABC", "QUJD"), (3, "DEF", "REVG")]


def test_comma_separator_cr_line_ends_blank_lines_quotes_and_spaces() -> None:
    data = b'DEVICE_ID,Public Key\r\rabc,QUJD\r"def" , " REVG "\r\n  xyz ,QUJD  \n\n'
    assert parsed(data) == [(3, "ABC", "QUJD"), (4, "DEF", "REVG"), (5, "XYZ", "QUJD")]


def test_the_separator_is_decided_per_row() -> None:
    assert parsed(b"abc;QUJD\ndef,REVG\n") == [(1, "ABC", "QUJD"), (2, "DEF", "REVG")]


def test_identifiers_keep_their_allowed_punctuation() -> None:
    assert parsed(b"aa:bb_cc.dd-ee;QUJD") == [(1, "AA:BB_CC.DD-EE", "QUJD")]


def test_every_malformed_row_is_named() -> None:
    data = (
        b"ok;QUJD\n"
        b"only-one\n"
        b"a;b;c\n"
        b";QUJD\n"
        b"bad id;QUJD\n"
        b"empty;\n"
        b"not;b64!\n"
        b"x;QUJ\n"
        b"y;QUJD,REVG\n"
        b"also-ok;REVG\n"
    )
    errors = errors_of(data)
    assert errors == [
        (2, "expected 2 columns, found 1"),
        (3, "expected 2 columns, found 3"),
        (4, "the device identifier is empty"),
        (5, errors[3][1]),
        (6, "the public key column is empty"),
        (7, "public key is not valid base64"),
        (8, "public key is not valid base64"),
        (9, "expected 2 columns, found 3"),
    ]
    assert "' '" in errors[3][1] and "BAD ID" not in errors[3][1]


def test_the_rejection_reads_line_by_line() -> None:
    with pytest.raises(AccessListRejected) as rejected:
        parse_access_list(b"ok;QUJD\n\nonly-one\n\n\n\nnot;b64!")
    assert str(rejected.value) == (
        "line 3: expected 2 columns, found 1; line 7: public key is not valid base64"
    )
    assert rejected.value.errors == (
        RowError(3, "expected 2 columns, found 1"),
        RowError(7, "public key is not valid base64"),
    )


def test_a_huge_rejection_keeps_every_error_but_a_short_message() -> None:
    data = b"\n".join(b"only-one" for _ in range(500))
    with pytest.raises(AccessListRejected) as rejected:
        parse_access_list(data)
    assert len(rejected.value.errors) == 500
    assert str(rejected.value).endswith("; and 480 more")


def test_identifier_length_limit() -> None:
    assert parsed(b"a" * 128 + b";QUJD")[0][1] == "A" * 128
    ((line, message),) = errors_of(b"a" * 129 + b";QUJD")
    assert line == 1 and "128" in message


def test_a_header_only_counts_on_the_first_line() -> None:
    assert errors_of(b"abc;QUJD\ndeviceIdentifier;publicKey\n")[0][0] == 2
    assert parsed(b"\n\n  deviceIdentifier ; publicKey \nabc;QUJD") == [(4, "ABC", "QUJD")]


def test_a_device_named_like_a_header_is_still_a_row() -> None:
    assert parsed(b"ID;QUJD\nDEVICE;REVG") == [(1, "ID", "QUJD"), (2, "DEVICE", "REVG")]


def test_duplicates_name_both_lines() -> None:
    ((line, message),) = errors_of(b"abc;QUJD\nother;QUJD\nABC;REVG\n")
    assert line == 3 and "line 1" in message and "ABC" in message


def test_every_repeat_of_an_identifier_is_reported() -> None:
    errors = errors_of(b"abc;QUJD\nabc;QUJD\nAbc;QUJD\n")
    assert [(line, "line 1" in message) for line, message in errors] == [(2, True), (3, True)]


@pytest.mark.parametrize(
    "data",
    [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b"  \n\t\n", b"deviceIdentifier;publicKey\n"],
    ids=["empty", "bom only", "blank lines", "whitespace", "header only"],
)
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert errors_of(data) == [(0, "the file holds no rows")]


def test_invalid_utf8_names_each_line() -> None:
    errors = errors_of(b"abc;QUJD\nd\xffef;QUJD\nok;QUJD\r\n\xc3;QUJD\n")
    assert [line for line, _ in errors] == [2, 4]
    assert all("UTF-8" in message for _, message in errors)


def test_a_utf16_file_is_refused_with_a_hint() -> None:
    data = "deviceIdentifier;publicKey\r\nabc;QUJD\r\n".encode("utf-16")
    ((line, message),) = errors_of(data)
    assert line == 0 and "UTF-16" in message


def test_only_cr_and_lf_break_lines() -> None:
    # Form feeds and Unicode line separators stay inside the line, as an editor shows it.
    errors = errors_of("abc;QUJD\nd\u2028ef;QUJD\ngh\x0ci;QUJD\nok;QUJD".encode())
    assert [line for line, _ in errors] == [2, 3]


def test_a_decodable_but_unusable_key_is_not_a_csv_error() -> None:
    (row,) = parse_access_list(b"abc;QUJD")
    assert row.public_key == "QUJD"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("abc-1", "ABC-1"), ("  Ab:c_d.e \n", "AB:C_D.E"), ("x" * 128, "X" * 128)],
)
def test_normalise_device_identifier(raw: str, expected: str) -> None:
    assert normalise_device_identifier(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 129, "128"),
        ("a b", "' '"),
        ("a/b", "'/'"),
        ("äbc", "'ä'"),
        ("a\nb", "'\\n'"),
    ],
)
def test_normalise_device_identifier_refuses(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match="device identifier") as refused:
        normalise_device_identifier(raw)
    assert reason in str(refused.value)
