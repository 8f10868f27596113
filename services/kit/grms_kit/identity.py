"""Who is calling: the identity carried in a signed token from the gateway to every service.

The gateway signs a short-lived JWT for each user (or API key); it travels in gRPC metadata
as `authorization: Bearer …` and every service verifies it again (ASVS 8.3.1). The embedded
default signs with HS256 and the shared `GRMS_AUTH_SECRET`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from dataclasses import dataclass, field

import jwt

from grms_kit.errors import PermissionDenied, Unauthenticated

__all__ = [
    "ANONYMOUS",
    "Identity",
    "Role",
    "TokenCodec",
    "current_identity",
    "use_identity",
]

ISSUER = "grms-gateway"
AUDIENCE = "grms"
ALGORITHM = "HS256"


class Role:
    """The roles GRMS knows; a user holds one or more."""

    ADMIN = "admin"
    PLANNER = "planner"
    TAPD = "tapd"
    TREASURER = "treasurer"
    PROCUREMENT_OFFICER = "procurement_officer"
    MONITORING_OFFICER = "monitoring_officer"
    COMPLAINTS_OFFICER = "complaints_officer"
    AGENCY_HEAD = "agency_head"
    EXECUTIVE = "executive"
    AUDITOR = "auditor"
    SERVICE = "service"

    ALL = frozenset(
        {
            ADMIN,
            PLANNER,
            TAPD,
            TREASURER,
            PROCUREMENT_OFFICER,
            MONITORING_OFFICER,
            COMPLAINTS_OFFICER,
            AGENCY_HEAD,
            EXECUTIVE,
            AUDITOR,
            SERVICE,
        }
    )


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: `sub` is the stable key, never the e-mail address.

    `government` is the tenant the caller belongs to ("" for none); `agencies` scopes an
    agency officer to their own OPDs (empty means the whole government).
    """

    sub: str
    roles: frozenset[str] = field(default_factory=frozenset)
    government: str = ""
    agencies: frozenset[str] = field(default_factory=frozenset)
    name: str = ""

    @property
    def authenticated(self) -> bool:
        """True for any caller with a verified token."""
        return bool(self.sub)

    def has_role(self, *roles: str) -> bool:
        """True when the caller holds any of `roles`."""
        return bool(self.roles.intersection(roles))

    def require_role(self, *roles: str) -> None:
        """Raise Unauthenticated or PermissionDenied unless the caller holds one of `roles`."""
        if not self.authenticated:
            raise Unauthenticated("login required")
        if not self.has_role(*roles):
            raise PermissionDenied(f"requires one of the roles: {', '.join(sorted(roles))}")

    def require_government(self, code: str) -> None:
        """Raise PermissionDenied unless the caller may act for government `code`.

        An administrator of the province ("33") may act for its regencies and cities ("33.xx").
        """
        if self.government and (code == self.government or code.startswith(self.government + ".")):
            return
        raise PermissionDenied(f"not allowed for government {code}")


ANONYMOUS = Identity(sub="")

_current: contextvars.ContextVar[Identity] = contextvars.ContextVar("grms_identity", default=ANONYMOUS)


def current_identity() -> Identity:
    """The identity of the call being served (ANONYMOUS when none was presented)."""
    return _current.get()


def use_identity(identity: Identity) -> contextvars.Token[Identity]:
    """Make `identity` current for this task; reset with `_current.reset(token)`."""
    return _current.set(identity)


class TokenCodec:
    """Signs and verifies GRMS identity tokens."""

    def __init__(self, secret: str, *, ttl: dt.timedelta = dt.timedelta(hours=8)) -> None:
        if len(secret) < 32:
            raise ValueError("the auth secret must be at least 32 characters")
        self._secret = secret
        self._ttl = ttl

    def issue(self, identity: Identity, *, now: dt.datetime | None = None, ttl: dt.timedelta | None = None) -> str:
        """Return a signed token for `identity`."""
        now = now or dt.datetime.now(dt.UTC)
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": identity.sub,
            "iat": int(now.timestamp()),
            "exp": int((now + (ttl or self._ttl)).timestamp()),
            "roles": sorted(identity.roles),
            "gov": identity.government,
            "opd": sorted(identity.agencies),
            "name": identity.name,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Identity:
        """Return the identity in `token`, or raise Unauthenticated."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        roles = frozenset(r for r in claims.get("roles", []) if r in Role.ALL)
        return Identity(
            sub=str(claims["sub"]),
            roles=roles,
            government=str(claims.get("gov", "")),
            agencies=frozenset(claims.get("opd", [])),
            name=str(claims.get("name", "")),
        )
