"""Who asked for a change, recorded on every event so an auditor can answer "who did this"."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandContext:
    """The actor and provenance of one command.

    Events keep this as a plain dict (see `as_metadata`) so that the stored form
    stays readable by any tool that can read JSON, not only by this code.
    """

    actor_id: str
    actor_kind: str  # "user", "device", "api_token", "system", "cli"
    credential_id: str | None = None
    source_address: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None

    def as_metadata(self) -> dict[str, str | None]:
        # The fields in their order, as asdict gives them; every value is immutable, so
        # asdict's recursive copy (a few µs on every event) buys nothing.
        return dict(vars(self))


SYSTEM = CommandContext(actor_id="system", actor_kind="system")
