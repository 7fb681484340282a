"""Typed dependencies shared by the routers."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clipforge.catalog import ModelCatalog
from clipforge.errors import AuthenticationFailed
from clipforge.settings import Settings
from clipforge.storage.base import Storage
from clipforge.store.base import JobStore


@dataclass(frozen=True)
class Services:
    """What the routers work with; built once by the app factory."""

    settings: Settings
    store: JobStore
    storage: Storage
    catalog: ModelCatalog


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer KEY`")


def require_api_key(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 unless no keys are configured or the bearer key is one of them."""
    keys = services.settings.api_keys
    if not keys:
        return
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed("missing API key: send `Authorization: Bearer KEY`")
    offered = credentials.credentials.encode()
    if not any(hmac.compare_digest(offered, key.encode()) for key in keys):
        raise AuthenticationFailed("invalid API key")


Authorized = Depends(require_api_key)
