"""What every command that talks to a server shares: the consoles (messages on stderr,
results on stdout), the client with its errors as one line (`connect`), and a mistake in the
command as one line (`fail`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from clipforge.cli import output as show
from clipforge.cli.reach import wait_if_starting, why_unreachable
from clipforge.client import Client
from clipforge.client._base import KEY_VARIABLE
from clipforge.errors import ApiConnectionError, ApiError, ClientError

console = Console(stderr=True)
stdout = Console()


@contextmanager
def connect(server: str | None, api_key: str | None, as_json: bool = False) -> Iterator[Client]:
    """A client for the command (after waiting for a local server that is starting); a
    ClientError becomes one red line (with --json also a JSON `{"error": ...}` on stdout) and
    exit status 2 for a 4xx, 1 otherwise."""
    api_key = api_key or os.environ.get(KEY_VARIABLE)
    if api_key and api_key.lower().startswith("bearer "):
        api_key = api_key[len("bearer ") :].strip()  # the key alone: the client adds "Bearer"
    try:
        with Client(server, api_key) as client:
            wait_if_starting(client.base_url, console)
            yield client
    except ClientError as exc:
        message = str(exc)
        if isinstance(exc, ApiConnectionError):
            message = why_unreachable(message, server)
        console.print(f"[red]error[/red]: {escape(message)}", soft_wrap=True)
        status = getattr(exc, "status_code", None)
        if as_json:
            show.emit_json({"error": {"message": message, "status": status}})
        user_error = isinstance(exc, ApiError) and status is not None and status < 500
        raise typer.Exit(2 if user_error else 1) from exc


def fail(message: str) -> NoReturn:
    """A mistake in the command: one red line, exit status 2."""
    console.print(f"[red]error[/red]: {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)
