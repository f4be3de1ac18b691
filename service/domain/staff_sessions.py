"""The staff page's sessions and the throttle on signing in: the rules, without I/O.

A session is opened by signing in with a staff or admin key. It lasts until it has
been idle for ``SessionPolicy.idle`` or reaches ``SessionPolicy.lifetime`` after
sign-in, whichever comes first, or until it is ended: sign-out, revocation of its
key. It acts as its key does, at the key's stores only.

Failed sign-ins are counted per client address and per key id (the part of a token
before its secret); once either has failed ``ThrottlePolicy.max_failures`` times in
the window that began with its first failure, every sign-in it makes is refused,
right key or wrong, until that window ends: a guesser learns nothing meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.domain.access import Principal, Unauthorized
from service.domain.errors import DomainError

STAFF_ROLES = frozenset({"staff", "admin"})


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle_s: int
    lifetime_s: int


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int
    window_s: int


@dataclass(frozen=True, slots=True)
class Flash:
    """A message for the next page the session loads, shown once."""

    text: str
    error: bool = False


@dataclass(frozen=True, slots=True)
class StaffSession:
    """A live session: who acts (the key's principal, as the key is now) and the
    message left for this page."""

    principal: Principal
    flash: Flash | None = None


class SignInRefused(Unauthorized):
    code = "sign_in_refused"


class SignInThrottled(DomainError):
    """Too many failed sign-ins of this address or key lately (HTTP 429)."""

    code = "too_many_sign_ins"

    def __init__(self, retry_after_s: int) -> None:
        minutes = -(-retry_after_s // 60)
        super().__init__(f"too many failed sign-ins; try again in {minutes} min")
        self.retry_after_s = retry_after_s


def may_sign_in(principal: Principal | None) -> bool:
    return principal is not None and principal.role in STAFF_ROLES


def throttle_subjects(address: str | None, key_id: str | None) -> list[str]:
    """What a sign-in attempt counts against, sorted: the order its rows are locked in."""
    subjects = [f"address:{address or 'unknown'}"]
    if key_id:
        subjects.append(f"key:{key_id}")
    return sorted(subjects)
