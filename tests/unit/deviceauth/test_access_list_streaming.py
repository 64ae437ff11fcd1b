"""The CSV upload read chunk by chunk (issue 9, defects 7 and 8): the same rows and errors
as the whole file, one line held at most, and no key longer than the JSON route allows."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization

from domain.deviceauth.access_list_csv import (
    ERRORS_KEPT,
    MAX_LINE_BYTES,
    AccessListParser,
    AccessListRejected,
    AccessListRow,
    parse_access_list,
)
from domain.deviceauth.public_keys import MAX_KEY_TEXT_LENGTH
from tests.keys import make_key

SAMPLE = (
    b"\xef\xbb\xbfdeviceIdentifier;publicKey\r\n"
    b"abc;QUJD\r\n"
    b"\r"
    b'"def" , " REVG "\r'
    b"ghi;QUJD\n"
    b"\n"
    b"jkl,REVG"
)


def in_chunks(data: bytes, size: int) -> list[AccessListRow]:
    parser = AccessListParser()
    rows: list[AccessListRow] = []
    for start in range(0, len(data), size):
        rows += parser.feed(data[start : start + size])
    return rows + parser.finish()


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 11, 64])
def test_any_chunking_reads_the_same_rows(size: int) -> None:
    assert in_chunks(SAMPLE, size) == parse_access_list(SAMPLE)


def test_a_crlf_split_across_chunks_is_one_line_break() -> None:
    parser = AccessListParser()
    rows = parser.feed(b"abc;QUJD\r") + parser.feed(b"\ndef;REVG\r") + parser.feed(b"\r\n")
    rows += parser.finish()
    assert [(r.line, r.device_identifier) for r in rows] == [(1, "ABC"), (2, "DEF")]


def test_errors_are_found_whatever_the_chunking() -> None:
    data = b"ok;QUJD\nonly-one\nd\xffef;QUJD\nok;REVG\n"
    for size in (1, 3, 8, 100):
        with pytest.raises(AccessListRejected) as rejected:
            in_chunks(data, size)
        assert [e.line for e in rejected.value.errors] == [2, 3, 4]


def test_a_key_longer_than_the_json_route_allows_is_refused() -> None:
    key = base64.b64encode(b"k" * (MAX_KEY_TEXT_LENGTH // 4 * 3 + 3)).decode()
    assert MAX_KEY_TEXT_LENGTH < len(key) < MAX_LINE_BYTES - 20
    with pytest.raises(AccessListRejected) as rejected:
        parse_access_list(f"ok;QUJD\nbig;{key}\n".encode())
    ((line, message),) = [(e.line, e.message) for e in rejected.value.errors]
    assert line == 2 and str(MAX_KEY_TEXT_LENGTH) in message


def test_a_key_of_exactly_the_limit_is_a_row() -> None:
    key = base64.b64encode(b"k" * (MAX_KEY_TEXT_LENGTH // 4 * 3)).decode()
    assert len(key) == MAX_KEY_TEXT_LENGTH
    assert parse_access_list(f"ok;{key}".encode())[0].public_key == key


def test_a_huge_line_is_refused_without_being_held() -> None:
    parser = AccessListParser()
    parser.feed(b"ok;QUJD\nbig;")
    for _ in range(80):  # 5 MiB of key, as in the report
        parser.feed(b"QUJD" * 16384)
        assert len(parser._pending) <= MAX_LINE_BYTES
    parser.feed(b"\nafter;REVG")
    with pytest.raises(AccessListRejected) as rejected:
        parser.finish()
    ((line, message),) = [(e.line, e.message) for e in rejected.value.errors]
    assert line == 2 and str(MAX_KEY_TEXT_LENGTH) in message


def test_a_private_key_is_refused_before_anything_is_applied() -> None:
    private = make_key("ecdsa-p256").private
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    body = f"ok;QUJD\nsecret;{base64.b64encode(pem).decode()}\n".encode()
    with pytest.raises(AccessListRejected) as rejected:
        parse_access_list(body)
    ((line, message),) = [(e.line, e.message) for e in rejected.value.errors]
    assert line == 2 and "private key" in message


def test_a_file_of_errors_keeps_the_first_and_counts_the_rest() -> None:
    data = b"\n".join(b"only-one" for _ in range(ERRORS_KEPT + 250))
    with pytest.raises(AccessListRejected) as rejected:
        parse_access_list(data)
    assert len(rejected.value.errors) == ERRORS_KEPT
    assert rejected.value.count == ERRORS_KEPT + 250
    assert str(rejected.value).endswith(f"; and {ERRORS_KEPT + 250 - 20} more")
