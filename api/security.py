"""Who is calling: an API key in ``X-API-Key`` or ``Authorization: Bearer``, or a console session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal, mixed_checks, verify_key
from api.problems import ProblemError
from api.sessions import session_principal

__all__ = ["authenticated", "require"]

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key: kz_<id>.<secret>")
_bearer = HTTPBearer(auto_error=False, description="the same API key as a bearer token")


def unauthorized() -> ProblemError:
    return ProblemError(
        401,
        "a valid API key is required (X-API-Key or Authorization: Bearer)",
        headers={"WWW-Authenticate": 'Bearer realm="kz-procedures"'},
    )


async def authenticated(
    key: str | None = Security(_api_key), bearer: HTTPAuthorizationCredentials | None = Security(_bearer)
) -> Principal:
    """The caller's principal; 401 for a missing, unknown, malformed or revoked key alike."""
    principal = verify_key(key or (bearer.credentials if bearer else None))
    if principal is None:
        raise unauthorized()
    return principal


def require(roles: frozenset[str], what: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller must hold one of ``roles``; checked before anything is looked up."""

    async def dependency(principal: Principal = Depends(authenticated)) -> Principal:
        if not principal.may(roles):
            raise ProblemError(403, f"this key may not {what}")
        if pair := mixed_checks(principal.roles):  # made before create_key refused the mix
            raise ProblemError(
                403,
                f"this key holds {pair[0]} and {pair[1]}, whose events check one another: it acts on nothing until "
                "each system has a key of its own (starter.py api create-key)",
            )
        if principal.bin is None and principal.caller.acts_as_operator(roles):
            raise ProblemError(
                403,
                "this operator system's key is bound to no organisation (BIN): it acts on nothing until re-issued "
                "(starter.py api create-key --bin)",
            )
        return principal

    return dependency


async def key_or_session(request: Request) -> Principal | None:
    """A principal from an API key header or, failing that, from the console's session cookie."""
    header = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not header and auth.lower().startswith("bearer "):
        header = auth[7:]
    if header:
        return verify_key(header)
    return session_principal(request.session if "session" in request.scope else {})
