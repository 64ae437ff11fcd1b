"""Every OpenShock command and the function that decides it."""

from __future__ import annotations

from domain.openshock.control_handlers import HANDLERS as CONTROL_HANDLERS
from domain.openshock.hub_handlers import HANDLERS as HUB_HANDLERS
from domain.openshock.hub_link_handlers import HANDLERS as HUB_LINK_HANDLERS
from domain.openshock.share_handlers import HANDLERS as SHARE_HANDLERS

HANDLERS = {
    **HUB_HANDLERS,
    **HUB_LINK_HANDLERS,
    **CONTROL_HANDLERS,
    **SHARE_HANDLERS,
}
