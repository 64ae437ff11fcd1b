"""Every OpenShock view, as the composition root lists them."""

from __future__ import annotations

from projections.openshock_control_log_view import OpenShockControlLogView
from projections.openshock_hub_link_view import OpenShockHubLinkView
from projections.openshock_hub_view import OpenShockHubView
from projections.openshock_offer_view import OpenShockOfferView
from projections.openshock_share_link_view import OpenShockShareLinkView
from projections.openshock_share_view import OpenShockShareView
from projections.view_store import Projection


def openshock_views() -> list[Projection]:
    return [
        OpenShockHubView(),
        OpenShockShareView(),
        OpenShockControlLogView(),
        OpenShockOfferView(),
        OpenShockShareLinkView(),
        OpenShockHubLinkView(),
    ]
