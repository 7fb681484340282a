"""Settings: the only package of the server that reads the environment (CLIPFORGE_*). The SDK
and the CLI's client commands read their two, CLIPFORGE_URL and CLIPFORGE_API_KEY, in
`clipforge/client/_base.py`, so that the SDK never imports server code.

This module assembles the one `Settings` object operators configure from its groups of
fields, one module each: `server` (data folder, address, keys, secret), `rendering`
(backend, weights, device), `operations` (workers, housekeeping, metrics, callbacks),
`front_door` (rates, deadlines, caps, reachable addresses), `storage`, `open_models`
(diffusers weights and speed options) and `loras`."""

from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from clipforge.settings.front_door import FrontDoorFields
from clipforge.settings.loras import LoraFields
from clipforge.settings.open_models import OpenModelFields
from clipforge.settings.operations import OperationFields
from clipforge.settings.rendering import RenderingFields
from clipforge.settings.server import ServerFields
from clipforge.settings.storage import StorageFields


# pydantic collects the fields of the last base first: the groups are listed in reverse, so
# that the fields keep the order they are documented in (server first, LoRA last).
class Settings(
    LoraFields,
    OpenModelFields,
    StorageFields,
    FrontDoorFields,
    OperationFields,
    RenderingFields,
    ServerFields,
    BaseSettings,
):
    """Everything an operator can set. Each field reads CLIPFORGE_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CLIPFORGE_", extra="ignore")

    @field_validator("api_keys", "url_allowlist", "trusted_proxies", "lora_fixed", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value
