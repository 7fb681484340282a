"""Settings of the server itself: where it keeps its data, where it listens, who may use it
(API keys, open access) and the secret its links are signed with; what follows from them
(the database URL, the public base URL, the kept secret) and which of them refuse a
production start."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field
from pydantic_settings import NoDecode


def default_data_dir() -> Path:
    """One data folder for every command, whatever the current folder."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "clipforge"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ServerFields(BaseModel):
    """The server's own fields of `Settings` (CLIPFORGE_<NAME>)."""

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="`production` refuses unsafe defaults (no API keys, no signing secret).",
    )
    data_dir: Path = Field(
        default_factory=lambda: default_data_dir(),
        description="Folder for the SQLite database, the signing secret and generated videos; "
        "default $XDG_DATA_HOME/clipforge (~/.local/share/clipforge), the same for every "
        "command wherever it runs.",
    )
    database_url: str | None = Field(
        None, description="Job store URL; default sqlite:///<data_dir>/clipforge.db."
    )
    host: str = Field("127.0.0.1", description="Address `clipforge serve` listens on.")
    port: int = Field(8000, description="Port `clipforge serve` listens on.")
    public_base_url: str | None = Field(
        None,
        description="Base of the absolute video URLs handed to clients, e.g. "
        "https://videos.example.com; default http://<host>:<port>.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated bearer keys; a key written KEY:admin is an admin key (sees "
        "every job). Beside the stored keys of `clipforge keys create`.",
    )
    open_access: bool = Field(
        False,
        description="Serve without API keys on an address beyond loopback (development only; "
        "production refuses it). Without it, a server with no key answers only on loopback.",
    )
    signing_secret: str | None = Field(
        None,
        description="Server secret: the file-link key and each API key's default webhook "
        "secret are derived from it (HKDF); default a random one kept in <data_dir>/secret.",
    )
    url_ttl_seconds: int = Field(
        24 * 3600, gt=0, description="How long a signed video link stays valid."
    )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'clipforge.db'}"

    @property
    def resolved_public_base_url(self) -> str:
        base = self.public_base_url or f"http://{self.host}:{self.port}"
        return base.rstrip("/")

    @cached_property
    def resolved_signing_secret(self) -> bytes:
        """The configured secret, or one kept in the data folder so links survive restarts."""
        if self.signing_secret:
            return self.signing_secret.encode()
        path = self.data_dir / "secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    @property
    def videos_dir(self) -> Path:
        return self.data_dir / "videos"

    def check_safe(self, stored_keys: bool = False) -> list[str]:
        """Problems that refuse a production start; in development they are warnings.
        `stored_keys`: the job store holds API keys (`clipforge keys create`)."""
        problems = []
        if not self.api_keys and not stored_keys:
            problems.append("no API keys configured (set CLIPFORGE_API_KEYS)")
        if self.open_access:
            problems.append("CLIPFORGE_OPEN_ACCESS is on (anyone could use the server)")
        if not self.signing_secret:
            problems.append("no signing secret configured (set CLIPFORGE_SIGNING_SECRET)")
        return problems
