"""Errors the domain raises; each surface maps them to its own wire format."""


class DomainError(Exception):
    """A command was refused by the rules; nothing was changed."""

    # The refusal's stable name, for surfaces whose wire format names it (OpenShock's problem
    # `type`, e.g. "Device.NotFound"): a mapper switches on it, never on the message.
    code: str | None = None


class NotFound(DomainError):
    """The command names something that does not exist."""


class ConcurrencyConflict(DomainError):
    """Another writer changed the same aggregate and retries did not settle it."""


class ViewsBehind(Exception):
    """A view has not reached the log head in time; answering now would show stale data."""
