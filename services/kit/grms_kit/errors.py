"""The errors a use case may raise; pure Python so domain code can raise them too.

Entry points translate them: gRPC status codes in `grms_kit.grpc`, HTTP problems in the
gateway. Never raise a bare Exception for a user's mistake: it would surface as INTERNAL.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AlreadyExists",
    "Conflict",
    "DomainError",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "Unauthenticated",
]


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: `field` is a dotted path into the request, `description` says why."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every expected, user-facing error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    """The request itself is malformed; carries one violation per bad field."""

    def __init__(self, violations: list[FieldViolation] | FieldViolation, message: str | None = None) -> None:
        if isinstance(violations, FieldViolation):
            violations = [violations]
        self.violations = list(violations)
        summary = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(message or summary or "invalid argument")

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        """Shorthand for a single bad field."""
        return cls([FieldViolation(field, description)])


class NotFound(DomainError):
    """The named resource does not exist (or is not visible to the caller)."""


class AlreadyExists(DomainError):
    """A resource with that identity exists already."""


class FailedPrecondition(DomainError):
    """The request is well formed but not allowed in the resource's current state."""


class Conflict(DomainError):
    """Optimistic concurrency lost: the resource changed since the caller read it."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class ResourceExhausted(DomainError):
    """Too many attempts: the caller must wait before trying again."""


class Unauthenticated(DomainError):
    """The caller's credentials are missing or invalid."""
