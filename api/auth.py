"""API keys with scopes (DESIGN.md §4): `Authorization: Bearer KEY`, keys from `RINGTRACE_API_KEYS`.

Keys are kept only as SHA-256 digests and compared in constant time against every configured key, so
neither the comparison nor the loop's length tells a caller how close a guess came.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Final

from fastapi import Depends, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ProblemError

__all__ = ["ApiKey", "KeyRing", "Principal", "Scope", "parse_api_keys", "require_scope"]


class Scope(StrEnum):
    READ = "read"
    INGEST = "ingest"
    ADMIN = "admin"


_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="ringtrace"'}


@dataclass(frozen=True)
class ApiKey:
    name: str  # "key1", "key2", ...: what logs and metrics may show, never the key
    digest: bytes
    scopes: frozenset[Scope]


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[Scope]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_api_keys(text: str) -> tuple[ApiKey, ...]:
    """`KEY:SCOPES;KEY2:SCOPES`; SCOPES comma-separated ⊆ read, ingest, admin (admin implies the others).

    A malformed entry is a configuration error: ValueError, without the key in the message.
    """
    keys: list[ApiKey] = []
    for position, entry in enumerate((e.strip() for e in text.split(";")), start=1):
        if not entry:
            continue
        key, sep, scope_text = entry.rpartition(":")
        if not sep or not key.strip():
            raise ValueError(f"RINGTRACE_API_KEYS entry {position}: expected KEY:SCOPES")
        scopes: set[Scope] = set()
        for raw in scope_text.split(","):
            name = raw.strip().lower()
            if not name:
                continue
            try:
                scopes.add(Scope(name))
            except ValueError:
                raise ValueError(
                    f"RINGTRACE_API_KEYS entry {position}: unknown scope {name!r}; expected read, ingest, admin"
                ) from None
        if not scopes:
            raise ValueError(f"RINGTRACE_API_KEYS entry {position}: no scopes")
        if Scope.ADMIN in scopes:
            scopes = set(Scope)
        keys.append(ApiKey(name=f"key{position}", digest=_digest(key.strip()), scopes=frozenset(scopes)))
    return tuple(keys)


class KeyRing:
    """The configured keys; `identify` finds the key a bearer token is, in constant time."""

    def __init__(self, keys: tuple[ApiKey, ...]) -> None:
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    def identify(self, token: str) -> ApiKey | None:
        offered = _digest(token)
        found: ApiKey | None = None
        for key in self._keys:  # no early exit: every key is compared
            if hmac.compare_digest(offered, key.digest):
                found = key
        return found


_bearer = HTTPBearer(auto_error=False, description="An API key from RINGTRACE_API_KEYS.")


def require_scope(scope: Scope) -> params.Depends:
    """A dependency: the caller's key must exist (401) and carry `scope` (403)."""

    # async: a digest and a comparison never block, and a plain def would cost a thread-pool hop.
    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or not credentials.credentials:
            raise ProblemError(401, "send an API key as 'Authorization: Bearer KEY'", headers=_CHALLENGE)
        keyring: KeyRing = request.app.state.keyring
        key = keyring.identify(credentials.credentials)
        if key is None:
            raise ProblemError(401, "the API key is not valid", headers=_CHALLENGE)
        request.state.principal = key.name
        if scope not in key.scopes:
            raise ProblemError(403, f"this route needs the {scope.value!r} scope")
        return Principal(name=key.name, scopes=key.scopes)

    dependency: params.Depends = Depends(check)
    return dependency
