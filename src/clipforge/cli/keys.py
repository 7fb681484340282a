"""`clipforge keys create|list|revoke|webhook-secret|rotate-webhook-secret`: API keys and
their webhook secrets in the server's own database.

These commands open the job store directly (the database of CLIPFORGE_DATABASE_URL, else
<data_dir>/clipforge.db), so they run where the server runs; a running server sees a change
on its next request. The store keeps only a SHA-256 of each key: `create` prints the key once,
with its webhook secret (`clipforge/signing.py`), which `rotate-webhook-secret` replaces.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from clipforge.settings import Settings
    from clipforge.store.base import JobStore
    from clipforge.store.keys import ApiKey

keys_app = typer.Typer(
    help="API keys: create (printed once), list, revoke; their callbacks' webhook secrets."
)
console = Console(stderr=True)
stdout = Console()

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Server data folder (default $CLIPFORGE_DATA_DIR)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]


def _settings(data_dir: Path | None) -> Settings:
    from clipforge.settings import Settings

    return Settings(data_dir=data_dir) if data_dir else Settings()


@contextmanager
def _store(data_dir: Path | None) -> Iterator[JobStore]:
    from clipforge.store import open_store

    with open_store(_settings(data_dir).resolved_database_url) as store:
        yield store


def _where(data_dir: Path | None) -> str:
    """The database the keys commands use, as a person would look for it (no password)."""
    url = _settings(data_dir).resolved_database_url
    return (
        url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url.rsplit("@", 1)[-1]
    )


def _when(seconds: float | None) -> str:
    if not seconds:  # never, or a key of CLIPFORGE_API_KEYS (no creation time)
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the key is for (shown in listings).")],
    admin: Annotated[
        bool, typer.Option("--admin", help="An admin key: sees and manages every job.")
    ] = False,
    max_queued: Annotated[
        int | None,
        typer.Option(min=0, help="Queued jobs it may have (0: unlimited; default: the server's)."),
    ] = None,
    rate: Annotated[
        int | None,
        typer.Option(min=0, help="Requests per minute (0: unlimited; default: the server's)."),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it: this is the only time it is shown."""
    from clipforge.signing import issue
    from clipforge.store.keys import KeyLimits

    with _store(data_dir) as store:
        key, secret = store.create_key(name, KeyLimits(admin, max_queued, rate))
        webhook_secret = issue(store, key.id)
    where = _where(data_dir)
    if as_json:
        made = {"id": key.id, "name": key.name, "key": secret, "admin": admin}
        print(json.dumps(made | {"webhook_secret": webhook_secret, "database": where}))
        return
    stdout.print(secret, soft_wrap=True)
    kind = "admin key" if admin else "key"
    console.print(f"{kind} {key.id} ({name}) created: copy it now, it is not shown again")
    console.print(f"its webhook secret (verifies its callbacks): {webhook_secret}", soft_wrap=True)
    console.print(
        f"stored in {where}: a server on this database accepts it at once", soft_wrap=True
    )


@keys_app.command("list")
def list_keys(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Every key's id, name, creation and revocation time (never the keys themselves); the
    keys of CLIPFORGE_API_KEYS too (named so), whose ids the webhook commands take."""
    with _store(data_dir) as store:
        keys = store.list_keys() + _configured(_settings(data_dir))
    if as_json:
        print(json.dumps([_key_json(key) for key in keys]))
        return
    table = Table("name", "created", "revoked")
    table.add_column("limits", no_wrap=True)
    table.add_column("id", no_wrap=True)
    for key in keys:
        table.add_row(key.name, _when(key.created_at), _when(key.revoked_at), _limits(key), key.id)
    stdout.print(table)


def _configured(settings: Settings) -> list[ApiKey]:
    from clipforge.api.access import configured_keys
    from clipforge.store.keys import ApiKey, KeyLimits

    return [
        ApiKey(key.key_id, "CLIPFORGE_API_KEYS", 0.0, limits=KeyLimits(admin=key.admin))
        for key in configured_keys(settings.api_keys)
    ]


def _limits(key: ApiKey) -> str:
    """`admin`, and any limit that is not the server's default (0 shows as unlimited)."""
    limits, parts = key.limits, []
    if limits.admin:
        parts.append("admin")
    for value, unit in ((limits.max_queued, "queued"), (limits.rate_per_minute, "/min")):
        if value is not None:
            parts.append(f"{value or 'unlimited'} {unit}")
    return ", ".join(parts)


def _key_json(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "name": key.name,
        "created_at": key.created_at or None,  # None: a key of CLIPFORGE_API_KEYS
        "revoked_at": key.revoked_at,
        "admin": key.limits.admin,
        "max_queued": key.limits.max_queued,
        "rate_per_minute": key.limits.rate_per_minute,
    }


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `clipforge keys list`).")],
    data_dir: DataDirOption = None,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    with _store(data_dir) as store:
        if not store.revoke_key(key_id):
            console.print(f"[red]error[/red]: no active key with id {key_id!r}")
            raise typer.Exit(1)
    console.print(f"key {key_id} revoked")


GraceOption = Annotated[
    float,
    typer.Option(min=0, help="Hours the old secret keeps signing beside the new one."),
]


def _known(settings: Settings, store: JobStore, key_id: str) -> bool:
    """An active stored key, a key of CLIPFORGE_API_KEYS, or the open tenant."""
    from clipforge.api.access import configured_keys
    from clipforge.store.tenant import OPEN_OWNER

    configured = {key.key_id for key in configured_keys(settings.api_keys)}
    stored = {key.id for key in store.list_keys() if key.revoked_at is None}
    return key_id in configured | stored | {OPEN_OWNER}


@keys_app.command("webhook-secret")
def webhook_secret(
    key_id: Annotated[str, typer.Argument(help="The key's id (`clipforge keys list`), or open.")],
    data_dir: DataDirOption = None,
) -> None:
    """Print the webhook secret of a key that has none stored (a key of CLIPFORGE_API_KEYS,
    one made before webhook secrets, `open`): derived from the server secret."""
    from clipforge.signing import derived_webhook_secret

    settings = _settings(data_dir)
    with _store(data_dir) as store:
        if not _known(settings, store, key_id):
            console.print(f"[red]error[/red]: no active key with id {key_id!r}")
            raise typer.Exit(1)
        if store.webhook_secret(key_id) is not None:
            console.print(
                f"[red]error[/red]: key {key_id}'s webhook secret was shown when it was made"
                " (or rotated) and is not shown again: `clipforge keys rotate-webhook-secret`"
            )
            raise typer.Exit(1)
    stdout.print(derived_webhook_secret(settings.resolved_signing_secret, key_id), soft_wrap=True)


@keys_app.command("rotate-webhook-secret")
def rotate_webhook_secret(
    key_id: Annotated[str, typer.Argument(help="The key's id (`clipforge keys list`), or open.")],
    grace_hours: GraceOption = 24.0,
    data_dir: DataDirOption = None,
) -> None:
    """Give a key a new webhook secret (printed once); callbacks carry both signatures, old
    and new, for --grace-hours, so its receivers can switch over meanwhile."""
    import time

    from clipforge.signing import rotate

    settings = _settings(data_dir)
    with _store(data_dir) as store:
        if not _known(settings, store, key_id):
            console.print(f"[red]error[/red]: no active key with id {key_id!r}")
            raise typer.Exit(1)
        now = time.time()
        server_secret = settings.resolved_signing_secret
        secret = rotate(store, server_secret, key_id, grace_hours * 3600, now)
    stdout.print(secret, soft_wrap=True)
    console.print(
        f"key {key_id}: new webhook secret; the old one also signs until"
        f" {_when(now + grace_hours * 3600)}"
    )
