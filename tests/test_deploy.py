"""The example deployment files stay in step with the code: every CLIPFORGE_* variable they
set is a setting, the compose file parses and wires the services, and every command they
run is a real `clipforge` subcommand with real options."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
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


# Monitoring: deploy/prometheus (scrape config, alert rules and their unit tests) and
# deploy/grafana (the dashboard), described in docs/DEPLOY.md, "Monitoring".

PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "clipforge.json"

DOCUMENTED_METRICS: dict[str, str] = {
    "clipforge_jobs_created_total": "counter",
    "clipforge_jobs_finished_total": "counter",
    "clipforge_job_seconds": "histogram",
    "clipforge_denoise_step_seconds": "histogram",
    "clipforge_http_requests_total": "counter",
    "clipforge_http_request_duration_seconds": "histogram",
    "clipforge_auth_failures_total": "counter",
    "clipforge_rate_limited_total": "counter",
    "clipforge_callbacks_total": "counter",
    "clipforge_queue_depth": "gauge",
    "clipforge_queue_oldest_age_seconds": "gauge",
    "clipforge_workers_alive": "gauge",
    "clipforge_worker_busy": "gauge",
    "clipforge_worker_warm_model": "gauge",
    "clipforge_worker_device_memory_bytes": "gauge",
    "clipforge_storage_healthy": "gauge",
    "clipforge_storage_faults_total": "counter",
    "clipforge_jobs_given_back_total": "counter",
}
"""Every metric the monitoring files may use (the names of docs/DEPLOY.md's table), with its
type: a histogram is queried through its _bucket, _sum and _count series."""

DATABASE_GAUGES = {
    "clipforge_queue_depth",
    "clipforge_queue_oldest_age_seconds",
    "clipforge_workers_alive",
    "clipforge_worker_busy",
    "clipforge_worker_warm_model",
    "clipforge_worker_device_memory_bytes",
}
"""Read from the shared database: every API replica reports the same value."""

_METRIC = re.compile(r"\bclipforge_[a-z0-9_]+")
_MAX_OR_ABSENT = re.compile(r"(?:\bmax(?:\s+by\s*\([^()]*\))?|\babsent)\s*\(\s*$")


def _promtool(*args: str) -> str:
    """Run Debian's promtool (package prometheus); skip only where it is not installed."""
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    done = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _sample_names() -> set[str]:
    """The series names Prometheus stores for DOCUMENTED_METRICS."""
    names: set[str] = set()
    for name, kind in DOCUMENTED_METRICS.items():
        suffixes = ("_bucket", "_sum", "_count") if kind == "histogram" else ("",)
        names |= {name + suffix for suffix in suffixes}
    return names


def _alert_rules() -> list[dict[str, object]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard() -> dict[str, object]:
    return json.loads(DASHBOARD.read_text())


def _dashboard_exprs() -> list[str]:
    return [target["expr"] for panel in _dashboard()["panels"] for target in panel["targets"]]


def test_the_prometheus_config_and_alert_rules_pass_promtool() -> None:
    """promtool parses every PromQL expression and template; `check config` also loads
    the rule files the config names."""
    assert "SUCCESS" in _promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))
    assert "SUCCESS" in _promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))


def test_prometheus_scrapes_the_api_and_the_workers_with_the_alert_rules() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["global"]["scrape_interval"] == "15s"
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"clipforge-api", "clipforge-worker"}
    ports = {
        name: {target.rsplit(":", 1)[1] for c in job["static_configs"] for target in c["targets"]}
        for name, job in jobs.items()
    }
    assert ports == {"clipforge-api": {"8000"}, "clipforge-worker": {"9400"}}


def test_the_alerts_fire_on_their_unit_test_series_and_only_then() -> None:
    """deploy/prometheus/alerts_test.yml: ClipForgeNoWorkerAlive (all gone, gauge absent,
    one alive), ClipForgeQueueStuck (two replicas report the same age: one alert, and a sum
    would fire minutes early) and ClipForgeHighErrorRate."""
    tested = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    names = {check["alertname"] for case in tested for check in case["alert_rule_test"]}
    assert {"ClipForgeNoWorkerAlive", "ClipForgeQueueStuck"} <= names
    assert "SUCCESS" in _promtool("test", "rules", str(PROMETHEUS / "alerts_test.yml"))


def test_every_alert_has_a_severity_and_annotations_that_use_its_labels() -> None:
    rules = _alert_rules()
    assert {rule["alert"] for rule in rules} == {
        "ClipForgeDown",
        "ClipForgeNoWorkerAlive",
        "ClipForgeQueueStuck",
        "ClipForgeHighErrorRate",
        "ClipForgeCallbacksPaused",
        "ClipForgeStorageUnavailable",
    }
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule
        assert {"summary", "description"} <= set(rule["annotations"]), rule


def test_the_dashboard_panels_have_a_datasource_queries_and_places_that_do_not_overlap() -> None:
    dashboard = _dashboard()
    assert dashboard["schemaVersion"] == 39
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["model"]["definition"] == "label_values(clipforge_queue_depth, model)"
    source = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    taken: list[tuple[int, int, int, int]] = []
    for panel in dashboard["panels"]:
        assert panel["type"] in {"timeseries", "stat"}, panel["title"]
        assert panel["datasource"] == source, panel["title"]
        assert panel["targets"], panel["title"]
        assert all(target["expr"] and target["datasource"] == source for target in panel["targets"])
        place = panel["gridPos"]
        x, y, w, h = place["x"], place["y"], place["w"], place["h"]
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= 24, panel["title"]
        for ox, oy, ow, oh in taken:
            assert x + w <= ox or ox + ow <= x or y + h <= oy or oy + oh <= y, panel["title"]
        taken.append((x, y, w, h))
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(taken)


def test_the_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Each panel query, with Grafana's variables filled in, as a recording rule: promtool
    parses it as Prometheus would."""
    filled = [
        expr.replace("$__rate_interval", "1m").replace("$model", ".*")
        for expr in _dashboard_exprs()
    ]
    rules = [{"record": f"dashboard:query_{n}", "expr": expr} for n, expr in enumerate(filled)]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    assert f"SUCCESS: {len(rules)} rules found" in _promtool("check", "rules", str(path))


def test_the_alerts_and_the_dashboard_use_only_documented_metrics() -> None:
    dashboard = _dashboard()
    queries = [str(rule["expr"]) for rule in _alert_rules()] + _dashboard_exprs()
    queries += [variable.get("definition", "") for variable in dashboard["templating"]["list"]]
    used = {name for query in queries for name in _METRIC.findall(query)}
    assert used and used <= _sample_names(), used - _sample_names()
    unused = {name for name in DOCUMENTED_METRICS if not any(n.startswith(name) for n in used)}
    assert not unused, f"on no panel and in no alert: {unused}"


def test_database_gauges_are_aggregated_with_max_never_summed() -> None:
    """Every API replica reports the same queue and worker gauges (they are read from the
    database), so a sum over replicas multiplies them: each use sits directly inside max()
    or max by (...) (), or absent()."""
    for query in [str(rule["expr"]) for rule in _alert_rules()] + _dashboard_exprs():
        for match in _METRIC.finditer(query):
            if match.group() in DATABASE_GAUGES:
                assert _MAX_OR_ABSENT.search(query[: match.start()]), query


def test_the_deploy_guide_lists_every_metric() -> None:
    guide = (DEPLOY.parent / "docs" / "DEPLOY.md").read_text()
    monitoring = guide.split("## Monitoring", 1)[1].split("\n## ", 1)[0]
    missing = {name for name in DOCUMENTED_METRICS if f"`{name}" not in monitoring}
    assert not missing, missing
