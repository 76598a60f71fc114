"""The models shipped in bpmn/ deploy the way `make run` deploys them, and a deal starts with the hunter."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_cli_deploys_every_bundled_model_once(settings: Settings, ctx: object, monkeypatch) -> None:
    monkeypatch.setenv("VORONKA_DATABASE_URL", settings.database_url)
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(cli, ["deploy", str(BPMN)])
        assert first.exit_code == 0, first.output
        assert "sales_deal v1" in first.output and "vip_service v1" in first.output
        again = runner.invoke(cli, ["deploy", str(BPMN)])
        assert again.exit_code == 0 and "nothing new" in again.output
    finally:
        get_settings.cache_clear()


def test_sales_deal_starts_with_the_hunters_qualification(client, ctx) -> None:
    from tests.factories import upload

    files = [(p.name, p.read_bytes()) for p in sorted(BPMN.glob("*.bpmn"))]
    assert client.post("/api/v1/deployments", files=upload(*files)).status_code == 201
    started = client.post("/api/v1/process-instances", json={
        "definition_key": "sales_deal", "business_key": "ООО Ромашка",
        "variables": {"source": "cold_call", "company": "ООО Ромашка", "contact": "Иван", "segment": "b2b"}})
    assert started.status_code == 201, started.text
    (task,) = started.json()["tasks"]
    assert task["candidate_groups"] == ["hunter"]
    assert task["funnel_stage"] and task["work_kind"] in ("main", "auxiliary")
    assert task["form"], "the qualification task has form fields"
