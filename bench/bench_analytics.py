"""Analytics at scale: 100,000 finished and running deals on PostgreSQL, then each figure's latency.

The rows are bulk-inserted with SQL (generate_series), not driven through the engine: realistic deals of
sales_deal (stages reached geometrically, won / lost / running by age, two tasks in most stages with waits and
work times, stage visits, history with task events, SLA timer firings and reassignments), 30 % on a second
version. Then each service function runs `--runs` times (median and p95), with and without a period and a
manager filter. Run:

    createdb -h 127.0.0.1 -U postgres voronka_bench_analytics
    python bench/bench_analytics.py --url postgresql+psycopg://postgres@127.0.0.1:5432/voronka_bench_analytics
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.auth.actor import SYSTEM, Actor  # noqa: E402
from app.db.migrate import upgrade  # noqa: E402
from app.services import analytics, deployments  # noqa: E402
from app.services.analytics import Filters  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.settings import Settings  # noqa: E402

BPMN = Path(__file__).resolve().parents[1] / "bpmn"
STEPS = [  # stage index, stage, element, name, work kind, role, order within the stage
    (0, "lead", "Task_QualifyLead", "Квалифицировать лид", "main", "hunter", 0),
    (1, "qualified", "Task_IdentifyNeeds", "Выявить потребности и боли", "main", "hunter", 0),
    (2, "proposal", "Task_PrepareProposal", "Подготовить коммерческое предложение", "auxiliary", "hunter", 0),
    (3, "negotiation", "Task_PreliminaryNegotiations", "Провести предварительные переговоры", "main", "hunter", 0),
    (3, "negotiation", "Task_Negotiate", "Провести переговоры и отработать возражения", "main", "closer", 1),
    (4, "contract", "Task_DraftContract", "Подготовить договор", "auxiliary", "closer", 0),
    (4, "contract", "Task_ApproveContract", "Согласовать договор", "auxiliary", "head_of_sales", 1),
    (5, "invoiced", "Task_SendInvoice", "Отправить счёт клиенту", "auxiliary", "closer", 0),
    (6, "paid", "Task_CloseDocuments", "Закрыть документы по сделке", "auxiliary", "accounting", 0),
    (7, "fulfilled", "Task_FulfilContract", "Исполнить условия договора", "auxiliary", "account_manager", 0),
    (8, "retained", "Task_OfferRepeatOrder", "Предложить повторный заказ", "main", "account_manager", 0),
]
STAGES = ["lead", "qualified", "proposal", "negotiation", "contract", "invoiced", "paid", "fulfilled", "retained"]
STAGE_HOURS = [24, 24, 30, 72, 48, 60, 12, 240, 120]  # typical stay; each deal draws 0.2x .. 2.2x


def generate(url: str, deals: int) -> AppContext:
    settings = Settings(database_url=url, embedded_worker=False, _env_file=None)
    upgrade(url)
    ctx = AppContext(settings)
    files = [(p.name, p.read_bytes()) for p in sorted([*BPMN.glob("*.bpmn"), *BPMN.glob("*.dmn")])]
    deployments.deploy(ctx, files=files, actor=SYSTEM)
    xml = (BPMN / "sales_deal.bpmn").read_text(encoding="utf-8").replace(
        'name="Согласовать скидку"', 'name="Согласовать скидку с руководителем"')
    deployments.deploy(ctx, files=[("sales_deal.bpmn", xml.encode()), *[f for f in files if f[0] != "sales_deal.bpmn"]],
                       actor=SYSTEM)
    engine = create_engine(url)
    steps = ", ".join(f"({i}, '{s}', '{e}', '{n}', '{k}', '{r}', {o})" for i, s, e, n, k, r, o in STEPS)
    stage_names = "ARRAY[" + ", ".join(f"'{s}'" for s in STAGES) + "]"
    stage_hours = "ARRAY[" + ", ".join(str(h) for h in STAGE_HOURS) + "]::float8[]"
    started = time.perf_counter()
    with engine.begin() as conn:
        ids = dict(conn.execute(text("SELECT version, id FROM process_definition WHERE key = 'sales_deal'")).all())
        conn.execute(text("SELECT setseed(0.42)"))
        conn.execute(text(f"CREATE TEMP TABLE steps (i int, stage text, element text, name text, kind text, "
                          f"role text, seq int) ON COMMIT DROP; INSERT INTO steps VALUES {steps}"))
        conn.execute(text(f"""
            CREATE TEMP TABLE deals ON COMMIT DROP AS
            SELECT n, md5('deal' || n)::uuid::text AS id,
                   now() - (random() * 365) * interval '1 day' AS started_at,
                   least(8, floor(ln(1 - random()) / ln(0.78)))::int AS furthest,
                   'hunter_' || (n % 20) AS hunter, 'closer_' || (n % 10) AS closer,
                   (ARRAY['cold_call','exhibition','conference','web_form','social','yandex_direct'])[1 + n % 6]
                       AS source,
                   (ARRAY['smb','mid_market','enterprise','public_sector'])[1 + (n / 7) % 4] AS segment,
                   (ARRAY['a','b','c','key'])[1 + (n / 3) % 4] AS category,
                   CASE WHEN n % 10 < 3 THEN '{ids[2]}' ELSE '{ids[1]}' END AS definition_id
            FROM generate_series(1, {deals}) AS n"""))
        conn.execute(text(f"""
            CREATE TEMP TABLE visits ON COMMIT DROP AS
            SELECT d.id, s.i, ({stage_names})[s.i + 1] AS stage,
                   ({stage_hours})[s.i + 1] * (0.2 + 2 * random()) * interval '1 hour' AS stay
            FROM deals d CROSS JOIN generate_series(0, 8) AS s(i) WHERE s.i <= d.furthest"""))
        conn.execute(text("""
            CREATE TEMP TABLE timeline ON COMMIT DROP AS
            SELECT v.*, d.started_at + coalesce(sum(v.stay) OVER (PARTITION BY v.id ORDER BY v.i
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), interval '0') AS entered_at
            FROM visits v JOIN deals d USING (id)"""))
        # A deal is still running when its last stage would end in the future; else won at the end, lost before.
        conn.execute(text("""
            CREATE TEMP TABLE fate ON COMMIT DROP AS
            SELECT d.id, t.entered_at + t.stay AS end_at,
                   CASE WHEN t.entered_at + t.stay > now() THEN 'running'
                        WHEN d.furthest = 8 THEN 'won' ELSE 'lost' END AS fate
            FROM deals d JOIN timeline t ON t.id = d.id AND t.i = d.furthest"""))
        conn.execute(text(f"""
            INSERT INTO process_instance (id, definition_id, definition_key, business_key, status, state, variables,
                revision, funnel_stage, outcome, source, segment, category, lost_reason, started_by, started_at,
                updated_at, ended_at)
            SELECT d.id, d.definition_id, 'sales_deal', 'ООО Клиент ' || d.n,
                   CASE f.fate WHEN 'running' THEN 'running' ELSE 'completed' END, '{{}}', '{{}}', 1,
                   ({stage_names})[d.furthest + 1], nullif(f.fate, 'running'), d.source, d.segment, d.category,
                   CASE WHEN f.fate = 'lost' THEN (ARRAY['нет бюджета','дорого','выбрал конкурента',
                       'нет потребности'])[1 + d.n % 4] END,
                   d.hunter, d.started_at, least(f.end_at, now()),
                   CASE WHEN f.fate <> 'running' THEN f.end_at END
            FROM deals d JOIN fate f USING (id)"""))
        conn.execute(text("""
            INSERT INTO stage_visit (instance_id, stage, entered_at, left_at)
            SELECT t.id, t.stage, t.entered_at,
                   CASE WHEN t.entered_at + t.stay <= now() THEN t.entered_at + t.stay END
            FROM timeline t"""))
        conn.execute(text("""
            CREATE TEMP TABLE tasks ON COMMIT DROP AS
            SELECT md5(t.id || s.element)::uuid::text AS task_id, t.id AS instance_id, d.n, s.*,
                   t.entered_at + s.seq * t.stay / 2 AS created_at,
                   t.entered_at + s.seq * t.stay / 2 + random() * 0.3 * t.stay / 2 AS claimed_at,
                   t.entered_at + (s.seq + 1) * t.stay / 2 AS done_at,
                   CASE s.role WHEN 'hunter' THEN d.hunter WHEN 'closer' THEN d.closer
                        WHEN 'head_of_sales' THEN 'head' WHEN 'accounting' THEN 'buh_' || (d.n % 3)
                        ELSE 'am_' || (d.n % 5) END AS who
            FROM timeline t JOIN deals d ON d.id = t.id JOIN steps s ON s.i = t.i"""))
        conn.execute(text("""
            INSERT INTO task (id, instance_id, definition_key, business_key, element_id, name, form, properties,
                funnel_stage, work_kind, due_at, priority, state, created_at, claimed_at, completed_at,
                completed_by, assignee)
            SELECT task_id, instance_id, 'sales_deal', 'ООО Клиент ' || n, element, name, '[]', '{}', stage, kind,
                   CASE WHEN n % 4 = 0 THEN created_at + interval '2 days' END, 50,
                   CASE WHEN done_at <= now() THEN 'completed' ELSE 'open' END, created_at,
                   CASE WHEN claimed_at <= now() THEN claimed_at END,
                   CASE WHEN done_at <= now() THEN done_at END,
                   CASE WHEN done_at <= now() THEN who END,
                   CASE WHEN claimed_at <= now() THEN who END
            FROM tasks WHERE created_at <= now()"""))
        conn.execute(text("""
            INSERT INTO task_candidate (task_id, kind, name)
            SELECT task_id, 'group', role FROM tasks WHERE created_at <= now()"""))
        conn.execute(text("""
            INSERT INTO history_event (instance_id, definition_id, task_id, kind, element_id, funnel_stage, actor,
                                       at, data)
            SELECT id, definition_id, NULL, 'instance_started', 'StartEvent_Manual', 'lead', hunter, started_at,
                   '{}'::jsonb
            FROM deals
            UNION ALL
            SELECT t.instance_id, d.definition_id, t.task_id, 'task_created', t.element, t.stage, d.hunter,
                   t.created_at, '{}'::jsonb
            FROM tasks t JOIN deals d ON d.id = t.instance_id WHERE t.created_at <= now()
            UNION ALL
            SELECT t.instance_id, d.definition_id, t.task_id, 'task_completed', t.element, t.stage, t.who,
                   t.done_at, '{}'::jsonb
            FROM tasks t JOIN deals d ON d.id = t.instance_id WHERE t.done_at <= now()
            UNION ALL
            SELECT t.instance_id, d.definition_id, NULL, 'timer_fired', 'Timer_QualifySla', NULL, 'system',
                   t.created_at + interval '24 hours', '{}'::jsonb
            FROM tasks t JOIN deals d ON d.id = t.instance_id
            WHERE t.element = 'Task_QualifyLead' AND t.done_at > t.created_at + interval '24 hours'
                  AND t.created_at + interval '24 hours' <= now()
            UNION ALL
            SELECT t.instance_id, d.definition_id, t.task_id, 'task_assigned', t.element, t.stage, 'head',
                   t.claimed_at, jsonb_build_object('previous', NULL, 'assignee', t.who)
            FROM tasks t JOIN deals d ON d.id = t.instance_id WHERE d.n % 50 = 0 AND t.claimed_at <= now()"""))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        counts = {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                  for table in ("process_instance", "stage_visit", "task", "history_event")}
    engine.dispose()
    print(f"generated in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return ctx


def measure(ctx: AppContext, runs: int) -> list[tuple[str, float, float]]:
    now = datetime.now(UTC)
    quarter = {"start": now - timedelta(days=90), "end": now}
    hunter = Actor("hunter_3", frozenset({"hunter"}))
    cases = [
        ("funnel (all, 1 year)", lambda: analytics.funnel(ctx, actor=SYSTEM, filters=Filters("sales_deal"))),
        ("funnel (90 days)", lambda: analytics.funnel(ctx, actor=SYSTEM, filters=Filters("sales_deal", **quarter))),
        ("funnel (source + segment)", lambda: analytics.funnel(
            ctx, actor=SYSTEM, filters=Filters("sales_deal", source="web_form", segment="smb"))),
        ("funnel (a hunter's own)", lambda: analytics.funnel(ctx, actor=hunter, filters=Filters("sales_deal"))),
        ("stage-times (all)", lambda: analytics.stage_times(ctx, actor=SYSTEM, filters=Filters("sales_deal"))),
        ("stage-times (90 days)", lambda: analytics.stage_times(ctx, actor=SYSTEM,
                                                                filters=Filters("sales_deal", **quarter))),
        ("task-times (all)", lambda: analytics.task_times(ctx, actor=SYSTEM, filters=Filters("sales_deal"))),
        ("task-times (90 days)", lambda: analytics.task_times(ctx, actor=SYSTEM,
                                                              filters=Filters("sales_deal", **quarter))),
        ("bottlenecks (90 days)", lambda: analytics.bottlenecks(ctx, actor=SYSTEM,
                                                                filters=Filters("sales_deal", **quarter))),
        ("sla (all)", lambda: analytics.sla(ctx, actor=SYSTEM, filters=Filters("sales_deal"))),
        ("people (90 days)", lambda: analytics.people(ctx, actor=SYSTEM, filters=Filters("sales_deal", **quarter))),
        ("people (a hunter's own)", lambda: analytics.people(ctx, actor=hunter, filters=Filters("sales_deal"))),
        ("versions (v1 vs v2, 90 days)", lambda: analytics.compare_versions(
            ctx, actor=SYSTEM, filters=Filters("sales_deal", **quarter))),
    ]
    results = []
    for name, call in cases:
        call()  # warm: model map, plans, caches
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            call()
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results.append((name, statistics.median(times), p95))
        print(f"{name:32s} median {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms", flush=True)
    return results


def explain(url: str) -> None:
    """Plans of the queries that must use indexes: a manager's deals and a period of tasks."""
    engine = create_engine(url)
    with engine.connect() as conn:
        for title, sql in (
            ("a manager's deals", "SELECT count(*) FROM process_instance WHERE definition_key = 'sales_deal' AND "
             "(started_by = 'hunter_3' OR id IN (SELECT instance_id FROM task WHERE completed_by = 'hunter_3' "
             "UNION SELECT instance_id FROM task WHERE assignee = 'hunter_3' AND state = 'open'))"),
            ("tasks completed in 90 days", "SELECT element_id, count(*) FROM task WHERE definition_key = "
             "'sales_deal' AND state = 'completed' AND completed_at >= now() - interval '90 days' GROUP BY 1"),
            ("SLA timers fired", "SELECT element_id, count(*) FROM history_event WHERE kind = 'timer_fired' "
             "GROUP BY 1"),
        ):
            plan = [r[0] for r in conn.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}"))]
            print(f"\n-- {title}\n" + "\n".join(plan))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="measure the deals a previous run generated")
    args = parser.parse_args()
    ctx = (AppContext(Settings(database_url=args.url, embedded_worker=False, _env_file=None)) if args.reuse
           else generate(args.url, args.deals))
    try:
        measure(ctx, args.runs)
        explain(args.url)
    finally:
        ctx.close()


if __name__ == "__main__":
    main()
