"""Models as a dimension, and predictions judged as their outcomes arrive.

On a private copy of the loaded test world: a model version changes lifecycle status in the
middle of a day, an SLA-scored application is decided late, a draft scored for dropout is
submitted. The change plan asks for the right prediction days, and one load brings the
dimension, both prediction facts, the daily performance and the ML portal's monitoring along.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
import psycopg

from smart_warehouse_assets import frames
from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.sources.registry import PREDICTIONS, SERVICE_APPLICATIONS
from tests.conftest import LAST_DAY, TEST_START, load_warehouse
from tests.operations.helpers import portals
from tests.warehouse.helpers import rows, scalar

MOVED = "2026-09-11 12:00:00+05:30"  # when the SLA model is archived (mid-day, IST)


def test_each_prediction_names_the_model_state_valid_when_it_scored(loaded_template):
    urls, _ = loaded_template
    wh = urls["warehouse"]
    assert scalar(wh, "SELECT count(*) FROM dim_model WHERE is_current AND model_key <> -1") == \
        scalar(urls["aiml"], "SELECT count(*) FROM ml_models")
    for fact in ("fact_eligibility_scoring", "fact_prediction_outcome"):
        assert scalar(wh, f"SELECT count(*) FROM {fact}") > 0
        assert scalar(wh, f"""SELECT count(*) FROM {fact} f LEFT JOIN dim_model m ON m.model_key = f.model_key
                              WHERE m.model_key IS NULL OR m.model_key = -1 OR NOT
                                    (f.predicted_at >= m.valid_from AND f.predicted_at < m.valid_to)""") == 0, fact
    assert scalar(wh, """SELECT count(*) FROM fact_eligibility_scoring f JOIN dim_model m USING (model_key)
                         WHERE (m.model_name, m.model_version, m.use_case_code)
                               IS DISTINCT FROM (f.model_name, f.model_version, 'ELIGIBILITY_SCORING')""") == 0
    assert scalar(wh, """SELECT count(*) FROM fact_prediction_outcome f JOIN dim_model m USING (model_key)
                         WHERE m.use_case_code <> f.use_case_code""") == 0


def test_outcomes_are_the_warehouses_own_verdicts(loaded_template):
    urls, _ = loaded_template
    wh = urls["warehouse"]
    assert scalar(wh, """SELECT count(*) FROM fact_prediction_outcome p
                         JOIN fact_service_applications a USING (application_id)
                         WHERE p.use_case_code = 'SLA_BREACH_PREDICTION'
                           AND p.outcome IS DISTINCT FROM CASE WHEN a.sla_met THEN 'on_time'
                                                               WHEN NOT a.sla_met THEN 'breach' END""") == 0
    submitted = {a for (a,) in rows(urls["citizen"], "SELECT application_id::text FROM service_applications "
                                                     "WHERE submitted_at IS NOT NULL")}
    dropout = rows(wh, "SELECT application_id::text, outcome FROM fact_prediction_outcome "
                       "WHERE use_case_code = 'DROPOUT_PREDICTION'")
    assert {o for _, o in dropout} >= {"abandoned"}
    assert all((o == "submitted") == (a in submitted) for a, o in dropout if o)


def _one(url: str, query: str, params=None):
    (row,) = rows(url, query, params)
    return row


def test_late_outcomes_and_a_status_change_flow_through_one_load(loaded):
    urls, _ = loaded
    wh, citizen, aiml = urls["warehouse"], urls["citizen"], urls["aiml"]
    since = changes.current_watermarks(portals(urls))
    # An SLA prediction whose application is still open, and a draft scored for dropout.
    sla_pid, sla_app, sla_day = _one(wh, """
        SELECT p.prediction_id, p.application_id, p.prediction_date_key FROM fact_prediction_outcome p
        JOIN fact_service_applications a USING (application_id)
        WHERE p.use_case_code = 'SLA_BREACH_PREDICTION' AND p.outcome IS NULL
          AND a.status IN ('submitted', 'under_review') AND p.prediction_date_key < 20260911
        ORDER BY p.predicted_at LIMIT 1""")
    drop_pid, drop_app, drop_day = _one(wh, """
        SELECT prediction_id, application_id, prediction_date_key FROM fact_prediction_outcome
        WHERE use_case_code = 'DROPOUT_PREDICTION' AND outcome IS DISTINCT FROM 'submitted'
        ORDER BY predicted_at LIMIT 1""")
    judged_before = scalar(wh, "SELECT predictions_judged FROM agg_model_performance m JOIN dim_model d "
                               "USING (model_key) WHERE date_key = %s AND d.use_case_code = 'SLA_BREACH_PREDICTION'",
                           (sla_day,))
    sla_model = scalar(aiml, "SELECT model_id FROM predictions WHERE prediction_id = %s", (sla_pid,))
    stamp = "now() - interval '2 minutes'"  # settled: the change plans read up to now() minus a minute
    with psycopg.connect(citizen) as conn:
        conn.execute(f"UPDATE service_applications SET status = 'rejected', decided_at = '2026-09-14 10:00+05:30', "
                     f"updated_at = {stamp} WHERE application_id = %s", (sla_app,))
        conn.execute(f"UPDATE service_applications SET status = 'submitted', submitted_at = '2026-09-13 10:00+05:30', "
                     f"updated_at = {stamp} WHERE application_id = %s", (drop_app,))
    with psycopg.connect(aiml) as conn:
        conn.execute("UPDATE ml_models SET status = 'archived', updated_at = %s WHERE model_id = %s", (MOVED, sla_model))

    # The plan re-loads both prediction days in every asset fed by predictions.
    plan = changes.changed_days(portals(urls), since)
    day_of = lambda key: datetime.strptime(str(key), "%Y%m%d").date()  # noqa: E731
    for asset in PREDICTIONS.assets[1:]:
        assert {day_of(sla_day), day_of(drop_day)} <= plan[asset], asset

    load_warehouse(urls, TEST_START, LAST_DAY)
    # The SLA model has two states; its predictions follow the one valid when each was made.
    states = rows(wh, "SELECT model_key, status, valid_from FROM dim_model WHERE model_id = %s ORDER BY valid_from",
                  (sla_model,))
    assert [s for _, s, _ in states] == ["production", "archived"]
    assert states[1][2] == datetime.fromisoformat("2026-09-11T12:00:00+05:30")
    keyed = rows(wh, "SELECT predicted_at >= %s, array_agg(DISTINCT model_key) FROM fact_prediction_outcome "
                     "WHERE use_case_code = 'SLA_BREACH_PREDICTION' GROUP BY 1", (MOVED,))
    assert dict(keyed) == {False: [states[0][0]], True: [states[1][0]]}
    # The late decision and the late submission are in, with when they became known.
    outcome, known, correct, predicted = _one(wh, "SELECT outcome, outcome_known_at, is_correct, predicted_positive "
                                                  "FROM fact_prediction_outcome WHERE prediction_id = %s", (sla_pid,))
    sla_met = scalar(wh, "SELECT sla_met FROM fact_service_applications WHERE application_id = %s", (sla_app,))
    assert outcome == ("on_time" if sla_met else "breach") and correct == (predicted == (not sla_met))
    assert known == datetime.fromisoformat("2026-09-14T10:00:00+05:30")
    assert _one(wh, "SELECT outcome, outcome_known_at FROM fact_prediction_outcome WHERE prediction_id = %s",
                (drop_pid,)) == ("submitted", datetime.fromisoformat("2026-09-13T10:00:00+05:30"))
    # The day's performance counts the newly judged prediction, and the ML portal sees the same.
    judged_after = scalar(wh, "SELECT sum(predictions_judged) FROM agg_model_performance m JOIN dim_model d "
                              "USING (model_key) WHERE date_key = %s AND d.use_case_code = 'SLA_BREACH_PREDICTION'",
                          (sla_day,))
    assert judged_after == judged_before + 1
    assert scalar(aiml, "SELECT metric_value FROM model_monitoring WHERE model_id = %s AND metric_date = %s "
                        "AND metric_name = 'warehouse_predictions_judged' AND status = 'active'",
                  (sla_model, day_of(sla_day))) == judged_after
    # On the day the status changed, the portal gets one figure for the version, both states together.
    moved_day = day_of(20260911)
    per_state = scalar(wh, "SELECT sum(predictions) FROM agg_model_performance WHERE date_key = 20260911 "
                           "AND model_key = ANY(%s)", ([k for k, _, _ in states],))
    assert scalar(aiml, "SELECT count(*) FROM model_monitoring WHERE model_id = %s AND metric_date = %s "
                        "AND metric_name = 'warehouse_predictions_judged'", (sla_model, moved_day)) == 1
    assert per_state == scalar(aiml, "SELECT count(*) FROM predictions WHERE model_id = %s AND "
                                     "(predicted_at AT TIME ZONE 'Asia/Kolkata')::date = %s", (sla_model, moved_day))


def test_a_draft_left_alone_past_its_horizon_replans_its_day(loaded_template):
    """No row changes when a dropout horizon passes: the plan finds the day by the clock alone."""
    urls, _ = loaded_template
    predicted_at, day = _one(urls["aiml"], """
        SELECT predicted_at, (predicted_at AT TIME ZONE 'Asia/Kolkata')::date FROM predictions
        WHERE use_case_code = 'DROPOUT_PREDICTION' ORDER BY predicted_at LIMIT 1""")
    horizon = predicted_at + timedelta(days=7)
    clock = SERVICE_APPLICATIONS.name
    passed = changes.changed_days(portals(urls), {clock: horizon - timedelta(seconds=1)}, {clock: horizon})
    assert day in passed["fact_prediction_outcome"] and day in passed["agg_model_performance"]
    before = changes.changed_days(portals(urls), {clock: horizon - timedelta(seconds=2)},
                                  {clock: horizon - timedelta(seconds=1)})
    assert day not in before["fact_prediction_outcome"]


def test_lineage_runs_from_the_ml_portal_to_every_ml_asset():
    from smart_warehouse_assets.definitions import defs

    graph = defs.resolve_asset_graph()

    def ancestors(key: str) -> set[str]:
        seen, todo = set(), [dg.AssetKey.from_user_string(key)]
        while todo:
            for parent in graph.get(todo.pop()).parent_keys:
                if parent.to_user_string() not in seen:
                    seen.add(parent.to_user_string())
                    todo.append(parent)
        return seen

    portal = {"smart_aiml/predictions", "smart_aiml/ml_models", "smart_aiml/ml_use_cases"}
    for asset in ("dim_model", "fact_prediction_outcome", "agg_model_performance", "training/eligibility_scoring"):
        assert "smart_aiml/ml_models" in ancestors(asset), asset
    for asset in ("fact_prediction_outcome", "agg_model_performance", "training/eligibility_scoring"):
        assert portal <= ancestors(asset), asset


def test_the_performance_figures_do_not_depend_on_how_the_days_are_grouped(loaded, monkeypatch):
    """agg_model_performance reads its days a group at a time (memory stays flat with the
    history): groups of about one day give the same figures, there and in the ML portal."""
    urls = loaded[0]
    only = dg.AssetSelection.assets(dg.AssetKey("agg_model_performance"))
    figures = "SELECT * FROM agg_model_performance ORDER BY date_key, model_key, use_case_code"
    portal = ("SELECT model_id, metric_date, metric_name, metric_value, threshold, is_breached, status "
              "FROM model_monitoring WHERE created_by = 'smart-warehouse' ORDER BY 1, 2, 3")
    whole = [r[:-1] for r in rows(urls["warehouse"], figures)]  # without etl_batch_id
    written = rows(urls["aiml"], portal)
    per_day = scalar(urls["warehouse"], "SELECT max(n) FROM (SELECT count(*) AS n FROM fact_prediction_outcome "
                                        "GROUP BY prediction_date_key) d")
    monkeypatch.setattr(frames, "GROUP_ROWS", per_day)
    assert load_warehouse(urls, TEST_START, LAST_DAY, selection=only).success
    assert [r[:-1] for r in rows(urls["warehouse"], figures)] == whole
    assert rows(urls["aiml"], portal) == written
    assert len(whole) > (LAST_DAY - TEST_START).days  # every day has figures
