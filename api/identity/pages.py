"""The provider's HTML pages: login, consent, errors. Every value is escaped."""

from __future__ import annotations

from html import escape

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}"
    "label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem}"
    "button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b00020}"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _hidden(name: str, value: str) -> str:
    return f"<input type=hidden name='{escape(name)}' value='{escape(value)}'>"


def login_page(return_url: str, csrf: str, error: str | None = None, email: str = "") -> str:
    message = f"<p class=error role=alert>{escape(error)}</p>" if error else ""
    return _page(
        "Sign in",
        f"{message}<form method=post action='/account/login'>"
        f"{_hidden('ReturnUrl', return_url)}{_hidden('csrf', csrf)}"
        f"<label for=email>E-mail</label>"
        f"<input id=email name=email type=email autocomplete=username required "
        f"value='{escape(email)}'>"
        f"<label for=password>Password</label>"
        f"<input id=password name=password type=password autocomplete=current-password required>"
        f"<button type=submit>Sign in</button></form>",
    )


def consent_page(client_name: str, scopes: list[str], params: dict[str, str], csrf: str) -> str:
    items = "".join(f"<li>{escape(scope)}</li>" for scope in scopes)
    hidden = "".join(_hidden(k, v) for k, v in params.items())
    return _page(
        "Allow access?",
        f"<p><strong>{escape(client_name)}</strong> asks for:</p><ul>{items}</ul>"
        f"<form method=post action='/connect/authorize'>{hidden}{_hidden('csrf', csrf)}"
        f"<button name=consent value=allow type=submit>Allow</button> "
        f"<button name=consent value=deny type=submit>Deny</button></form>",
    )


def error_page(message: str) -> str:
    return _page("Sign-in request refused", f"<p class=error>{escape(message)}</p>")


def signed_out_page() -> str:
    return _page("Signed out", "<p>You are signed out. You may close this window.</p>")


def device_page(user_code: str, csrf: str) -> str:
    return _page(
        "Sign in a device",
        "<p>Enter the code your device shows, then allow or deny it.</p>"
        f"<form method=post action='/device'>{_hidden('csrf', csrf)}"
        f"<label for=user_code>Code</label>"
        f"<input id=user_code name=user_code required value='{escape(user_code)}'>"
        f"<button name=decision value=allow type=submit>Allow</button> "
        f"<button name=decision value=deny type=submit>Deny</button></form>",
    )


def device_done_page(allowed: bool) -> str:
    if allowed:
        return _page("Device signed in", "<p>You may return to your device.</p>")
    return _page("Device refused", "<p>The device was not signed in.</p>")
