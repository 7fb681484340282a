"""`clipforge keys create|list|revoke` on a real database, used by a live server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clipforge.cli import app
from clipforge.settings.server import default_data_dir
from tests.live import live_server

BODY = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a red ball"}


def test_create_list_revoke(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = ["--data-dir", str(tmp_path)]
    created = runner.invoke(app, ["keys", "create", "ci", *folder, "--json"])
    assert created.exit_code == 0, created.output
    made = json.loads(created.stdout)
    assert made["name"] == "ci" and made["key"].startswith("cf_")
    plain = runner.invoke(app, ["keys", "create", "laptop", *folder])
    assert plain.exit_code == 0 and plain.stdout.strip().startswith("cf_")

    listed = json.loads(runner.invoke(app, ["keys", "list", *folder, "--json"]).stdout)
    assert [key["name"] for key in listed] == ["ci", "laptop"]
    assert all("key" not in key and key["revoked_at"] is None for key in listed)
    table = runner.invoke(app, ["keys", "list", *folder]).stdout
    assert made["id"] in table and made["key"] not in table

    with live_server(tmp_path, backend="testpattern", workers=0) as live:
        with live.client(made["key"]) as http:
            assert http.post("/v2/video/generations", json=BODY).status_code == 200
        revoked = runner.invoke(app, ["keys", "revoke", made["id"], *folder])
        assert revoked.exit_code == 0, revoked.output
        with live.client(made["key"]) as http:
            assert http.post("/v2/video/generations", json=BODY).status_code == 401
    again = runner.invoke(app, ["keys", "revoke", made["id"], *folder])
    assert again.exit_code == 1 and "no active key" in again.output


def test_admin_keys_and_per_key_limits(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = ["--data-dir", str(tmp_path)]
    options = ["--admin", "--max-queued", "3", "--rate", "0"]
    created = runner.invoke(app, ["keys", "create", "ops", *options, *folder, "--json"])
    assert created.exit_code == 0, created.output
    made = json.loads(created.stdout)
    assert made["admin"] is True
    [listed] = json.loads(runner.invoke(app, ["keys", "list", *folder, "--json"]).stdout)
    assert (listed["admin"], listed["max_queued"], listed["rate_per_minute"]) == (True, 3, 0)
    assert "admin, 3 queued, unlimited /min" in runner.invoke(app, ["keys", "list", *folder]).stdout
    refused = runner.invoke(app, ["keys", "create", "bad", "--rate", "-1", *folder])
    assert refused.exit_code != 0
    with live_server(tmp_path, backend="testpattern", workers=0) as live:
        store = live.server.store
        other = store.create_key("tenant")[1]
        with live.client(other) as http:
            job_id = http.post("/v2/video/generations", json=BODY).json()["id"]
        with live.client(made["key"]) as admin:
            assert admin.get(f"/v1/jobs/{job_id}").status_code == 200
            assert [j["id"] for j in admin.get("/v1/jobs").json()["data"]] == [job_id]


def test_keys_go_to_one_data_folder_whatever_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --data-dir, `keys create` and `serve` use $XDG_DATA_HOME/clipforge, from any
    folder, and `keys create` names the database it wrote."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CLIPFORGE_DATA_DIR", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "laptop"])
    assert created.exit_code == 0, created.output
    database = tmp_path / "xdg" / "clipforge" / "clipforge.db"
    assert f"stored in {database}" in created.stderr
    made = json.loads(runner.invoke(app, ["keys", "create", "ci", "--json"]).stdout)
    assert made["database"] == str(database) and database.is_file()
    assert not list(elsewhere.iterdir())  # nothing made in the current folder

    with (
        live_server(default_data_dir(), backend="testpattern", workers=0) as live,
        live.client(made["key"]) as http,
    ):
        assert http.post("/v2/video/generations", json=BODY).status_code == 200


def test_a_key_comes_with_its_webhook_secret_shown_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clipforge.api.access import configured_keys
    from clipforge.settings import Settings
    from clipforge.signing import derived_webhook_secret

    monkeypatch.setenv("CLIPFORGE_API_KEYS", "cf_from-the-environment")
    runner = CliRunner()
    folder = ["--data-dir", str(tmp_path)]
    made = json.loads(runner.invoke(app, ["keys", "create", "ci", *folder, "--json"]).stdout)
    assert made["webhook_secret"].startswith("whsec_")
    plain = runner.invoke(app, ["keys", "create", "laptop", *folder])
    assert "webhook secret" in plain.stderr and "whsec_" in plain.stderr
    assert "whsec_" not in plain.stdout  # stdout stays the key alone, for scripts
    stored = runner.invoke(app, ["keys", "webhook-secret", made["id"], *folder])
    assert stored.exit_code == 1 and "not shown again" in stored.output
    assert made["webhook_secret"] not in stored.output

    [env_id] = [key.key_id for key in configured_keys(["cf_from-the-environment"])]
    listed = json.loads(runner.invoke(app, ["keys", "list", *folder, "--json"]).stdout)
    assert env_id in [key["id"] for key in listed]
    derived = runner.invoke(app, ["keys", "webhook-secret", env_id, *folder])
    assert derived.exit_code == 0, derived.output
    server_secret = Settings(data_dir=tmp_path).resolved_signing_secret
    assert derived.stdout.strip() == derived_webhook_secret(server_secret, env_id)
    rotated = runner.invoke(app, ["keys", "rotate-webhook-secret", env_id, *folder])
    assert rotated.exit_code == 0 and rotated.stdout.strip() != derived.stdout.strip()
    assert runner.invoke(app, ["keys", "webhook-secret", env_id, *folder]).exit_code == 1

    assert runner.invoke(app, ["keys", "revoke", made["id"], *folder]).exit_code == 0
    gone = runner.invoke(app, ["keys", "rotate-webhook-secret", made["id"], *folder])
    assert gone.exit_code == 1 and "no active key" in gone.output
