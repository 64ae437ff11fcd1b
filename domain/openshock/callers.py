"""Who an OpenShock request acts for, from the principal Hubline authenticated.

OpenShock accepts a user's login session (every right) or one of the user's API tokens
(its OpenShock permissions and control limits). An OAuth access token, an operator's token
(no owner) or anything else is no OpenShock caller.
"""

from __future__ import annotations

from uuid import UUID

from domain.openshock.values import Caller, ShockerControl, TokenGrant
from domain.principals.permissions import OPENSHOCK_PERMISSIONS, Principal


def caller_of(principal: Principal) -> Caller | None:
    if principal.kind != "user":
        return None
    try:
        user_id = UUID(principal.id)
    except ValueError:
        return None
    if principal.credential_kind == "session":
        return Caller(user_id)
    if principal.credential_kind == "api_token" and principal.credential_id is not None:
        return Caller(
            user_id,
            TokenGrant(
                token_id=principal.credential_id,
                permissions=principal.permissions & OPENSHOCK_PERMISSIONS,
                control=principal.shocker_control or ShockerControl(),
            ),
        )
    return None
