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


def test_cli_redeploy_of_a_changed_bundled_model_is_a_draft_unless_approved(settings: Settings, ctx: object,
                                                                             monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VORONKA_DATABASE_URL", settings.database_url)
    from app.settings import get_settings

    for path in BPMN.glob("*.bpmn"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(cli, ["deploy", str(tmp_path)]).exit_code == 0
        changed = tmp_path / "sales_deal.bpmn"
        changed.write_text(changed.read_text(encoding="utf-8").replace(">P14D<", ">P10D<"), encoding="utf-8")
        draft = runner.invoke(cli, ["deploy", str(tmp_path)])
        assert draft.exit_code == 0 and "sales_deal v2 (" in draft.output and "a draft" in draft.output
        changed.write_text(changed.read_text(encoding="utf-8").replace(">P10D<", ">P9D<"), encoding="utf-8")
        approved = runner.invoke(cli, ["deploy", "--approve", str(tmp_path)])
        assert approved.exit_code == 0 and "sales_deal v3 (" in approved.output and "draft" not in approved.output
    finally:
        get_settings.cache_clear()
