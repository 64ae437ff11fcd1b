"""What a chosen password must be. Hubline's own surfaces and OpenShock's differ; the
password itself never reaches the domain (commands carry its hash), so the edge checks it
against the policy of the surface it came through before hashing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int
    max_length: int
    # OpenShock refuses a password that starts or ends with whitespace.
    edge_whitespace_allowed: bool = True

    def problem(self, password: str) -> str | None:
        """Why the password is refused, in words for the person choosing it; None if fine."""
        if len(password) < self.min_length:
            return f"a password needs at least {self.min_length} characters"
        if len(password) > self.max_length:
            return f"a password may have at most {self.max_length} characters"
        if not self.edge_whitespace_allowed and password.strip() != password:
            return "a password cannot start or end with whitespace"
        return None


# Hubline's identity pages, admin REST and CLI.
HUBLINE_PASSWORDS = PasswordPolicy(min_length=8, max_length=1024)
# OpenShock's signup and password change (12..256, as the real backend's hard limits).
OPENSHOCK_PASSWORDS = PasswordPolicy(min_length=12, max_length=256, edge_whitespace_allowed=False)
