"""A router for one public surface that looks only at requests under that surface's paths.

FastAPI (0.165 on) asks every included router in turn whether a request is theirs, and a
router asks each of its routes: 5-40 us a router, paid by every request routed further
down the list. Wrapped in a SurfaceRouter, a surface's routers cost a request for another
surface one `startswith`.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope


class SurfaceRouter(APIRouter):
    def __init__(self, path_prefixes: Iterable[str], routers: Iterable[APIRouter]) -> None:
        super().__init__()
        self._path_prefixes = tuple(path_prefixes)
        for router in routers:
            self.include_router(router)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not scope["path"].startswith(self._path_prefixes):
            return Match.NONE, {}
        return super().matches(scope)
