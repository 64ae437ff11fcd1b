"""OpenShock's refusals, each named by the problem `type` the real backend answers with.

The api layer maps `code` to a status and copies `extensions` into the problem body
(`shockerId`, `requiredPermission`, `errors`, ...); it never reads the message. Refusals
about something missing also derive from `NotFound`, so a generic mapper still says 404.
Another user's hub or shocker is refused exactly like a missing one: a caller learns nothing
about ids that are not theirs.
"""

from __future__ import annotations

from typing import Any

from domain.errors import DomainError, NotFound


class OpenShockRefusal(DomainError):
    code: str = "OpenShock.Refused"
    title: str = "The request was refused"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        # One positional argument, as every DomainError: infra.root.errors rebuilds an error
        # from its message alone when it shortens it.
        super().__init__(detail or self.title)
        self.extensions: dict[str, Any] = extensions


class InvalidRequest(OpenShockRefusal):
    """`errors` maps a JSON path of the body to what is wrong with it."""

    code = "Validation.Error"
    title = "One or more validation errors occurred"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.errors: dict[str, list[str]] = dict(extensions.get("errors") or {})


def invalid(path: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{path}: {message}", errors={path: [message]})


class PermissionMissing(OpenShockRefusal):
    code = "Authorization.Token.PermissionMissing"
    title = "You do not have the required permission to access this endpoint"


class SessionOnly(OpenShockRefusal):
    code = "Authorization.UserSession.Only"
    title = "This endpoint is only available to use with a user session"


class TokenPaused(OpenShockRefusal):
    code = "ApiToken.Paused"
    title = "This api token is paused and may not control shockers"


class HubNotFound(OpenShockRefusal, NotFound):
    code = "Device.NotFound"
    title = "Hub not found"


class HubNotOnline(OpenShockRefusal, NotFound):
    code = "Device.NotOnline"
    title = "Hub is not online"


class TooManyHubs(OpenShockRefusal):
    code = "Device.TooManyHubs"
    title = "You have too many hubs"


class TooManyShockers(OpenShockRefusal):
    code = "Device.TooManyShockers"
    title = "Hub has too many shockers"


class PairCodeNotFound(OpenShockRefusal, NotFound):
    code = "Pair.CodeNotFound"
    title = "Pair code not found"


class PairCodeTaken(OpenShockRefusal):
    """Another hub holds this code right now; the edge draws another one and asks again."""

    code = "Pair.CodeTaken"
    title = "This pair code is in use"


class ShockerNotFound(OpenShockRefusal, NotFound):
    code = "Shocker.NotFound"
    title = "Shocker not found"


class ControlNotFound(OpenShockRefusal, NotFound):
    code = "Shocker.Control.NotFound"
    title = "Shocker control not found"


class ControlPaused(OpenShockRefusal):
    code = "Shocker.Control.Paused"
    title = "Shocker is paused"


class ControlNoPermission(OpenShockRefusal):
    code = "Shocker.Control.NoPermission"
    title = "You don't have permission to control this shocker"


class ShareCodeNotFound(OpenShockRefusal, NotFound):
    code = "ShareCode.NotFound"
    title = "Share code not found"


class CantLinkOwnShareCode(OpenShockRefusal):
    code = "ShareCode.CantLinkOwnShareCode"
    title = "Cant link your own share code to your account"


class ShareCodeAlreadyLinked(OpenShockRefusal):
    code = "ShareCode.AlreadyLinked"
    title = "You already have this shocker linked to your account"


class ShareRequestNotFound(OpenShockRefusal, NotFound):
    code = "Share.Request.NotFound"
    title = "Share request not found"


class CannotShareWithSelf(OpenShockRefusal):
    code = "Share.Request.Create.CannotShareWithSelf"
    title = "You cannot share something with yourself"


class InviteShockerNotFound(OpenShockRefusal, NotFound):
    code = "Share.Request.Create.ShockerNotFound"
    title = "One or multiple of the provided shocker's were not found or do not belong to you"


class UserShareNotFound(OpenShockRefusal, NotFound):
    code = "Share.User.NotFound"
    title = "One or more user share was not found"


class ShareLinkNotFound(OpenShockRefusal, NotFound):
    code = "ShareLink.NotFound"
    title = "Public share not found"


class ShareLinkCooldown(OpenShockRefusal):
    # The real API keeps a link shocker's cooldown without enforcing it server-side; ours
    # refuses a control through the link until the previous one ended plus the cooldown.
    code = "ShareLink.Cooldown"
    title = "This shocker is cooling down"


class ShockerAlreadyInShareLink(OpenShockRefusal):
    code = "ShareLink.ShockerAlreadyInShareLink"
    title = "Shocker already exists in public share"


class ShockerNotInShareLink(OpenShockRefusal, NotFound):
    code = "ShareLink.ShockerNotInShareLink"
    title = "Shocker does not exist in public share"


class ExpiryDateInPast(OpenShockRefusal):
    code = "ShareLink.ExpiryDateInPast"
    title = "Expiry date cannot be in the past"
