"""Errors the domain raises; each surface maps them to its own wire format."""


class DomainError(Exception):
    """A command was refused by the rules; nothing was changed."""


class NotFound(DomainError):
    """The command names something that does not exist."""


class ConcurrencyConflict(DomainError):
    """Another writer changed the same aggregate and retries did not settle it."""
