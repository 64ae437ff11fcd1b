"""Pusher's request signature: the string signed, the window, body_md5, pure."""

from __future__ import annotations

import hashlib
import hmac
import time

import pusher
import pytest
from pusher.http import Request as PusherRequest

from api.pusher.signature import (
    TIMESTAMP_WINDOW_SECONDS,
    SignatureRefused,
    check_body,
    check_query,
    string_to_sign,
)

KEY, SECRET = "278d425bdf160c739803", "7ad3773142a6692b25b8"
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def _signed(
    method: str, path: str, params: dict[str, str], secret: str = SECRET
) -> list[tuple[str, str]]:
    pairs = list(params.items())
    text = string_to_sign(method, path, pairs)
    signature = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return [*pairs, ("auth_signature", signature)]


def _auth(**more: str) -> dict[str, str]:
    return {
        "auth_key": KEY,
        "auth_timestamp": str(int(time.time())),
        "auth_version": "1.0",
        **more,
    }


def test_pushers_documented_example() -> None:
    # The worked example of Pusher's "Generating authentication signatures" page.
    params = [
        ("auth_key", KEY),
        ("auth_timestamp", "1353088179"),
        ("auth_version", "1.0"),
        ("body_md5", "ec365a775a4cd0599faeb73354201b6f"),
    ]
    text = string_to_sign("post", "/apps/3/events", params)
    assert text == (
        "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179"
        "&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
    )
    signature = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    assert signature == "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    signed = [*params, ("auth_signature", signature)]
    assert check_query(SECRET, "POST", "/apps/3/events", signed, now=1353088179 + 5) == (
        "ec365a775a4cd0599faeb73354201b6f"
    )


def test_what_the_official_python_library_signs_is_accepted() -> None:
    client = pusher.Pusher(app_id="3", key=KEY, secret=SECRET, host="h", port=1, ssl=False)
    get = PusherRequest(
        client._pusher_client,
        "GET",
        "/apps/3/channels",
        {"info": "user_count,subscription_count", "filter_by_prefix": "presence-"},
    )
    # It signs a body_md5 of the empty body on every GET: accepted when it is that one.
    md5 = check_query(
        SECRET, "GET", "/apps/3/channels", list(get.query_params.items()), time.time()
    )
    assert md5 == EMPTY_MD5
    check_body(b"", md5)
    post = PusherRequest(
        client._pusher_client,
        "POST",
        "/apps/3/events",
        {"name": "e", "data": "d", "channels": ["a"]},
    )
    md5 = check_query(
        SECRET, "POST", "/apps/3/events", list(post.query_params.items()), time.time()
    )
    check_body(post.body, md5)


def test_keys_are_lower_cased_and_sorted_and_values_not_escaped() -> None:
    text = string_to_sign(
        "get",
        "/apps/1/channels",
        [("Info", "a,b"), ("filter_by_prefix", "presence-x y"), ("auth_signature", "zz")],
    )
    assert text == "GET\n/apps/1/channels\nfilter_by_prefix=presence-x y&info=a,b"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p | {"auth_version": "2.0"}, "auth_version"),
        (
            lambda p: p | {"auth_timestamp": str(int(time.time()) - TIMESTAMP_WINDOW_SECONDS - 5)},
            "seconds",
        ),
        (
            lambda p: p | {"auth_timestamp": str(int(time.time()) + TIMESTAMP_WINDOW_SECONDS + 5)},
            "seconds",
        ),
        (lambda p: p | {"auth_timestamp": "soon"}, "Unix time"),
        (lambda p: {k: v for k, v in p.items() if k != "auth_key"}, "missing auth_key"),
    ],
)
def test_refused_queries(change, message: str) -> None:  # type: ignore[no-untyped-def]
    signed = _signed("POST", "/apps/1/events", change(_auth()))
    with pytest.raises(SignatureRefused, match=message):
        check_query(SECRET, "POST", "/apps/1/events", signed, time.time())


def test_a_wrong_secret_method_or_path_is_refused() -> None:
    signed = _signed("POST", "/apps/1/events", _auth(), secret="other")
    with pytest.raises(SignatureRefused, match="Invalid signature"):
        check_query(SECRET, "POST", "/apps/1/events", signed, time.time())
    good = _signed("POST", "/apps/1/events", _auth())
    for method, path in (("GET", "/apps/1/events"), ("POST", "/apps/1/batch_events")):
        with pytest.raises(SignatureRefused, match="Invalid signature"):
            check_query(SECRET, method, path, good, time.time())


def test_a_signed_parameter_changed_afterwards_is_refused() -> None:
    signed = _signed("GET", "/apps/1/channels", _auth(filter_by_prefix="presence-"))
    tampered = [(k, "private-" if k == "filter_by_prefix" else v) for k, v in signed]
    with pytest.raises(SignatureRefused):
        check_query(SECRET, "GET", "/apps/1/channels", tampered, time.time())


def test_body_md5() -> None:
    body = b'{"name":"e"}'
    check_body(body, hashlib.md5(body, usedforsecurity=False).hexdigest())
    check_body(b"", None)
    check_body(b"", EMPTY_MD5)
    with pytest.raises(SignatureRefused, match="required"):
        check_body(body, None)
    with pytest.raises(SignatureRefused, match="does not match"):
        check_body(body, EMPTY_MD5)
    with pytest.raises(SignatureRefused, match="does not match"):
        check_body(b"", hashlib.md5(body, usedforsecurity=False).hexdigest())
