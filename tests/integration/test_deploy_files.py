"""The deployment files are checked without a Docker daemon: hadolint on the Dockerfile, the compose file against
the Compose Specification's JSON schema (check-jsonschema), the promises docs/operations.md makes about it, and
the dashboard and alerts against the metrics a real server exports. The image's Python stage is replayed in a
plain virtualenv (tests/e2e/test_image_build.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from app.main import create_app, prepare_database
from app.services.context import AppContext
from app.settings import Settings
from tests.conftest import ADMIN, basic_auth

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def load_yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


def test_the_dockerfile_passes_hadolint_and_hadolint_catches_a_bad_one(tmp_path: Path) -> None:
    checked = run(BIN / "hadolint", ROOT / "Dockerfile")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install voronka\nCMD voronka serve\n")
    assert run(BIN / "hadolint", bad).returncode != 0


def test_the_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    checked = run(sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                  DEPLOY / "compose.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = tmp_path / "compose.yaml"
    broken.write_text((DEPLOY / "compose.yaml").read_text().replace("    deploy:", "    deployment:", 1))  # a typo
    assert run(sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
               broken).returncode != 0


def test_the_compose_file_runs_what_the_operations_guide_describes() -> None:
    services = load_yaml(DEPLOY / "compose.yaml")["services"]
    assert set(services) == {"db", "migrate", "server", "worker", "proxy"}
    db = services["db"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"]) and "healthcheck" in db
    assert services["migrate"]["command"] == ["migrate"] and services["migrate"]["restart"] == "no"
    for name in ("server", "worker"):
        service = services[name]
        assert service["deploy"]["replicas"] == 2, name
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["env_file"] == ["voronka.env"] and "healthcheck" in service
    assert "--no-worker" in services["server"]["command"]
    assert services["worker"]["command"][0] == "worker"
    assert services["proxy"]["depends_on"]["server"]["condition"] == "service_healthy"
    assert any("Caddyfile" in v for v in services["proxy"]["volumes"])
    for name, service in services.items():
        assert service.get("restart") in ("unless-stopped", "no"), name
    example = (DEPLOY / "voronka.env.example").read_text()
    for key in ("POSTGRES_PASSWORD", "VORONKA_DATABASE_URL", "VORONKA_SECRET_KEY", "VORONKA_METRICS_TOKEN"):
        assert re.search(rf"^{key}=change-me", example, re.M) or f"{key}=postgresql://" in example, key
    assert "deploy/voronka.env" in (ROOT / ".gitignore").read_text().split()  # the secrets stay local


@pytest.fixture(scope="module")
def exported_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("metrics") / "voronka.db"
    settings = Settings(database_url=f"sqlite:///{path}", bootstrap_admin=":".join(ADMIN), embedded_worker=False,
                        fast_password_hashing=True, auto_migrate=True, _env_file=None)
    ctx = AppContext(settings)
    prepare_database(ctx)
    with TestClient(create_app(context=ctx), headers=basic_auth(*ADMIN)) as client:
        client.get("/health")
        yield client.get("/metrics").text
    ctx.close()


def metric_names(text: str) -> set[str]:
    return set(re.findall(r"\b(voronka_[a-z_]+)", text))


def test_the_dashboard_and_the_alerts_use_only_metrics_the_server_exports(exported_metrics: str) -> None:
    exported = {line.split("{")[0].split(" ")[0] for line in exported_metrics.splitlines()
                if line.startswith("voronka_")}
    dashboard = json.loads((DEPLOY / "grafana" / "voronka-dashboard.json").read_text())
    used = metric_names(json.dumps([t["expr"] for p in dashboard["panels"] for t in p["targets"]]))
    alerts = load_yaml(DEPLOY / "prometheus" / "alerts.yml")["groups"][0]["rules"]
    used |= metric_names(json.dumps([rule["expr"] for rule in alerts]))
    assert used and used <= exported, used - exported
    assert len(used) >= 15  # every metric of docs/operations.md is on the dashboard or in an alert
    guide = (ROOT / "docs" / "operations.md").read_text()
    for rule in alerts:
        assert f"`{rule['alert']}`" in guide, f"docs/operations.md does not explain {rule['alert']}"


def test_the_prometheus_example_loads_the_alerts() -> None:
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    assert config["rule_files"] == ["alerts.yml"]
    assert {job["job_name"] for job in config["scrape_configs"]} == {"voronka-server", "voronka-worker"}
