"""The example deployment files stay in step with the code: every CLIPFORGE_* variable they
set is a setting, the compose file parses and wires the services, and every command they
run is a real `clipforge` subcommand with real options."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import yaml
from typer.testing import CliRunner

from clipforge.cli import app
from clipforge.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
_VARIABLE = re.compile(r"\bCLIPFORGE_([A-Z0-9_]+)")


def _deploy_files() -> list[Path]:
    return [path for path in DEPLOY.rglob("*") if path.is_file()]


def test_every_clipforge_variable_in_deploy_is_a_setting() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    used = {m for path in _deploy_files() for m in _VARIABLE.findall(path.read_text())}
    assert used and used <= fields, used - fields


def test_the_compose_file_runs_the_api_and_gpu_workers_on_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "api", "worker", "minio"} <= set(services)
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["CLIPFORGE_DATABASE_URL"].startswith("postgresql://")
        assert env["CLIPFORGE_STORAGE_URL"].startswith("s3://")
    gpus = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert gpus[0]["capabilities"] == ["gpu"]
    _check_command(["clipforge", *services["api"]["command"]])
    _check_command(["clipforge", *services["worker"]["command"]])


def test_the_systemd_units_run_real_commands() -> None:
    units = list((DEPLOY / "systemd").glob("clipforge-*.service"))
    commands = [
        shlex.split(line.split("=", 1)[1].replace("%i", "0"))
        for unit in units
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=") and "/clipforge " in line
    ]
    assert len(commands) == 2  # the API and the worker template
    for command in commands:
        _check_command(command)


def _check_command(argv: list[str]) -> None:
    """Parse (without running: --help last) a `clipforge ...` command line with the real CLI:
    an unknown subcommand or option fails."""
    assert argv[0].endswith("clipforge")
    result = CliRunner().invoke(app, [*argv[1:], "--help"])
    assert result.exit_code == 0, result.output


def test_the_postgres_setup_script_makes_a_database_clipforge_can_use() -> None:
    """`sudo -u postgres psql -f deploy/postgres/setup.sql` (docs/DEPLOY.md), run by psql as
    the superuser of a fresh cluster; ClipForge then creates its tables as that role."""
    from clipforge.store.postgres import PostgresJobStore
    from tests.postgres import running_cluster

    with running_cluster() as cluster:
        script = str(DEPLOY / "postgres" / "setup.sql")
        connection = ("-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres")
        done = subprocess.run(
            [str(cluster.bin_dir / "psql"), *connection, "-v", "ON_ERROR_STOP=1", "-f", script],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        url = f"postgresql://clipforge:change-me@127.0.0.1:{cluster.port}/clipforge"
        with PostgresJobStore(url) as store:
            assert store.count_jobs() == 0
