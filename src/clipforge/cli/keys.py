"""`clipforge keys create|list|revoke`: API keys in the server's own database.

These commands open the job store directly (the database of CLIPFORGE_DATABASE_URL, else
<data_dir>/clipforge.db), so they run where the server runs; a running server sees a change
on its next request. The store keeps only a SHA-256 of each key: `create` prints the key once.
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
    from clipforge.store.base import JobStore
    from clipforge.store.keys import ApiKey

keys_app = typer.Typer(help="API keys: create (printed once), list, revoke.")
console = Console(stderr=True)
stdout = Console()

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Server data folder (default $CLIPFORGE_DATA_DIR)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]


@contextmanager
def _store(data_dir: Path | None) -> Iterator[JobStore]:
    from clipforge.settings import Settings
    from clipforge.store import open_store

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    with open_store(settings.resolved_database_url) as store:
        yield store


def _where(data_dir: Path | None) -> str:
    """The database the keys commands use, as a person would look for it (no password)."""
    from clipforge.settings import Settings

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    url = settings.resolved_database_url
    return (
        url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url.rsplit("@", 1)[-1]
    )


def _when(seconds: float | None) -> str:
    if seconds is None:
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
    from clipforge.store.keys import KeyLimits

    with _store(data_dir) as store:
        key, secret = store.create_key(name, KeyLimits(admin, max_queued, rate))
    where = _where(data_dir)
    if as_json:
        made = {"id": key.id, "name": key.name, "key": secret, "admin": admin}
        print(json.dumps(made | {"database": where}))
        return
    stdout.print(secret, soft_wrap=True)
    kind = "admin key" if admin else "key"
    console.print(f"{kind} {key.id} ({name}) created: copy it now, it is not shown again")
    console.print(
        f"stored in {where}: a server on this database accepts it at once", soft_wrap=True
    )


@keys_app.command("list")
def list_keys(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Every key's id, name, creation and revocation time (never the keys themselves)."""
    with _store(data_dir) as store:
        keys = store.list_keys()
    if as_json:
        print(json.dumps([_key_json(key) for key in keys]))
        return
    table = Table("name", "created", "revoked")
    table.add_column("limits", no_wrap=True)
    table.add_column("id", no_wrap=True)
    for key in keys:
        table.add_row(key.name, _when(key.created_at), _when(key.revoked_at), _limits(key), key.id)
    stdout.print(table)


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
        "created_at": key.created_at,
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
