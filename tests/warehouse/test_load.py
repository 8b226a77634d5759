"""The warehouse load on a seeded world: complete, reconciled, idempotent, atomic."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import psycopg
import pytest

from tests.conftest import LAST_DAY, TEST_START, load_warehouse
from tests.operations.helpers import training_days
from tests.warehouse.helpers import DIMENSIONS, FACTS, contents, rows, scalar

EVENT_SOURCES = {  # fact -> (portal, source count per IST day, fact date key, quarantine table)
    "fact_service_applications": (
        "citizen",
        "SELECT (submitted_at AT TIME ZONE 'Asia/Kolkata')::date, count(*) FROM service_applications "
        "WHERE submitted_at IS NOT NULL GROUP BY 1",
        "submitted_date_key", "service_applications"),
    "fact_application_processing": (
        "dept",
        "SELECT (action_at AT TIME ZONE 'Asia/Kolkata')::date, count(*) FROM processing_actions "
        "WHERE status <> 'deleted' GROUP BY 1",
        "action_date_key", "processing_actions"),
    "fact_eligibility_scoring": (
        "aiml",
        "SELECT (predicted_at AT TIME ZONE 'Asia/Kolkata')::date, count(*) FROM predictions "
        "WHERE use_case_code = 'ELIGIBILITY_SCORING' AND status <> 'deleted' GROUP BY 1",
        "prediction_date_key", "predictions"),
    "fact_prediction_outcome": (
        "aiml",
        "SELECT (predicted_at AT TIME ZONE 'Asia/Kolkata')::date, count(*) FROM predictions "
        "WHERE use_case_code IN ('SLA_BREACH_PREDICTION', 'DROPOUT_PREDICTION') AND status <> 'deleted' GROUP BY 1",
        "prediction_date_key", "predictions"),
}


def _in_range(day: date) -> bool:
    return TEST_START <= day <= LAST_DAY


@pytest.mark.parametrize("fact", sorted(EVENT_SOURCES))
def test_each_day_reconciles_source_with_loaded_plus_quarantined(loaded_template, fact):
    urls, _ = loaded_template
    portal, source_sql, date_key, table = EVENT_SOURCES[fact]
    source = {d: n for d, n in rows(urls[portal], source_sql) if _in_range(d)}
    loaded = dict(rows(urls["warehouse"], f"SELECT to_date({date_key}::text, 'YYYYMMDD'), count(*) FROM {fact} GROUP BY 1"))
    rejected = dict(rows(urls["warehouse"],
        "SELECT partition_date, count(*) FROM staging.rejected_rows WHERE source_table = %s GROUP BY 1", (table,)))
    assert sum(source.values()) > 0
    for day, n in source.items():
        assert loaded.get(day, 0) + rejected.get(day, 0) == n, f"{fact} {day}"
    assert set(loaded) <= set(source)


def test_contract_rules_send_exactly_the_dirty_rows_to_quarantine(loaded_template):
    urls, manifest = loaded_template
    dirty = manifest["dirty"]
    expected = {
        ("service_applications", i, reason)
        for kind, reason in (("decision_before_submission", "decision before submission"),
                             ("future_timestamp", "timestamp in the future"),
                             ("negative_amount", "negative amount"))
        for i in dirty[kind]["ids"]
    }
    got = set(rows(urls["warehouse"], "SELECT source_table, source_pk, reason FROM staging.rejected_rows"))
    assert got == expected
    # Quarantined rows carry the source row as JSON, and every one is counted on a batch.
    assert scalar(urls["warehouse"], "SELECT count(*) FROM staging.rejected_rows WHERE payload ? 'application_id'") == len(expected)
    assert scalar(urls["warehouse"], "SELECT sum(rows_rejected) FROM etl_batches WHERE status = 'success'") == len(expected)


def test_dirty_rows_that_pass_the_rules_are_loaded_and_cleaned(loaded_template):
    urls, manifest = loaded_template
    dirty = manifest["dirty"]
    wh = urls["warehouse"]
    # Odd spellings of a district end up spelled like everybody else's.
    odd = [str(i) for i in dirty["odd_district"]["ids"]]
    spelled = rows(wh, "SELECT district FROM dim_citizen WHERE citizen_id = ANY(%s::uuid[])", (odd,))
    assert spelled and all(d == d.strip() and "  " not in d and d != d.lower() for (d,) in spelled)
    assert scalar(wh, "SELECT count(DISTINCT lower(district)) = count(DISTINCT district) FROM dim_citizen")
    # One gender vocabulary.
    assert {g for (g,) in rows(wh, "SELECT DISTINCT gender FROM dim_citizen")} <= {"male", "female", "other", "unknown"}
    # A scheme owned by a department code nobody has: its facts point to the unknown department.
    unknown = [str(i) for i in dirty["scheme_unknown_department"]["ids"]]
    keys = rows(wh, """SELECT DISTINCT f.department_key FROM fact_service_applications f
                       JOIN dim_scheme s ON s.scheme_key = f.scheme_key WHERE s.scheme_id = ANY(%s::uuid[])""", (unknown,))
    assert keys in ([(-1,)], [])
    # Actions on applications the citizen portal does not have are kept, with unknown scheme.
    orphans = [str(i) for i in dirty["orphan_action"]["ids"]]
    got = rows(wh, "SELECT scheme_key, department_key FROM fact_application_processing WHERE action_id = ANY(%s::uuid[])", (orphans,))
    in_period = scalar(urls["dept"], """SELECT count(*) FROM processing_actions WHERE action_id = ANY(%s::uuid[])
        AND (action_at AT TIME ZONE 'Asia/Kolkata')::date BETWEEN %s AND %s""", (orphans, TEST_START, LAST_DAY))
    assert len(got) == in_period and all(k == (-1, -1) for k in got)


def test_scd2_invariants_hold(loaded_template):
    wh = loaded_template[0]["warehouse"]
    for table, nk in (("dim_citizen", "citizen_id"), ("dim_scheme", "scheme_id"), ("dim_department", "department_id"),
                      ("dim_designation", "designation_id")):
        assert scalar(wh, f"SELECT count(*) FROM (SELECT {nk} FROM {table} WHERE {nk} IS NOT NULL "
                          f"GROUP BY 1 HAVING count(*) FILTER (WHERE is_current) <> 1) x") == 0, table
        gaps = scalar(wh, f"""SELECT count(*) FROM (
            SELECT valid_to, lead(valid_from) OVER (PARTITION BY {nk} ORDER BY valid_from) AS next_from
            FROM {table} WHERE {nk} IS NOT NULL) v WHERE next_from IS NOT NULL AND next_from <> valid_to""")
        assert gaps == 0, table
        assert scalar(wh, f"SELECT count(*) FROM {table} WHERE is_current <> (valid_to = '9999-12-31 00:00:00+00')") == 0
        # Not vacuously: the dimension holds members to judge.
        assert scalar(wh, f"SELECT count(DISTINCT {nk}) FROM {table} WHERE {nk} IS NOT NULL") > 0, table


def test_department_hierarchy_comes_from_the_parent_chain(loaded_template):
    wh = loaded_template[0]["warehouse"]
    bad = rows(wh, """
        SELECT c.department_code FROM dim_department c
        LEFT JOIN dim_department p ON p.department_code = c.parent_department_code AND p.is_current
        WHERE c.is_current AND c.department_key <> -1
          AND (c.parent_department_code IS NULL AND (c.level <> 1 OR c.hierarchy_path <> c.department_code)
            OR c.parent_department_code IS NOT NULL AND (c.level <> p.level + 1
                OR c.hierarchy_path <> p.hierarchy_path || ' > ' || c.department_code))""")
    assert bad == []
    assert scalar(wh, "SELECT max(level) FROM dim_department") >= 3


def test_measures_follow_the_contract(loaded_template):
    wh = loaded_template[0]["warehouse"]
    assert scalar(wh, """SELECT count(*) FROM fact_service_applications WHERE
        (status IN ('approved', 'rejected')) IS DISTINCT FROM (decided_date_key <> -1)
        OR (status IN ('approved', 'rejected') AND processing_days IS DISTINCT FROM
            (decided_at AT TIME ZONE 'Asia/Kolkata')::date - (submitted_at AT TIME ZONE 'Asia/Kolkata')::date)
        OR (status NOT IN ('approved', 'rejected') AND (processing_days IS NOT NULL OR sla_met IS NOT NULL))
        OR sla_met IS DISTINCT FROM (processing_days <= sla_days)
        OR submitted_date_key <> to_char(submitted_at AT TIME ZONE 'Asia/Kolkata', 'YYYYMMDD')::int""") == 0
    assert scalar(wh, """SELECT count(*) FROM fact_eligibility_scoring WHERE
        is_correct IS DISTINCT FROM (predicted_eligible = (actual_outcome = 'approved'))""") == 0
    assert scalar(wh, "SELECT count(*) FROM fact_eligibility_scoring WHERE is_correct IS NOT NULL") > 0
    # The first action of an application counts from its submission, later ones from the previous action.
    assert scalar(wh, """SELECT count(*) FROM fact_application_processing p
        JOIN fact_service_applications f USING (application_id)
        WHERE p.step_number = 1 AND p.processing_minutes <>
              round(extract(epoch FROM p.action_at - f.submitted_at) / 60, 2)""") == 0
    # Every fact points at the dimension version valid at its event time.
    assert scalar(wh, """SELECT count(*) FROM fact_service_applications f JOIN dim_citizen c USING (citizen_key)
        WHERE c.citizen_key <> -1 AND NOT (f.submitted_at >= c.valid_from AND f.submitted_at < c.valid_to)""") == 0


def test_each_action_carries_its_workflow_step_from_the_portal(loaded_template):
    """Chain step, assignment and the officer's post, as the department portal joins them."""
    urls = loaded_template[0]
    expected = {r[0]: r[1:] for r in rows(urls["dept"], """
        SELECT a.action_id, a.assignment_id, s.priority, ch.action_required, ch.sla_hours, ch.is_final,
               d.designation_code
        FROM processing_actions a
        LEFT JOIN application_assignments s ON s.assignment_id = a.assignment_id
        LEFT JOIN approval_chains ch ON ch.workflow_id = s.workflow_id AND ch.step_number = a.step_number
        LEFT JOIN dept_users u ON u.dept_user_id = a.officer_id
        LEFT JOIN designations d ON d.designation_id = u.designation_id
        WHERE a.status <> 'deleted'""")}
    loaded = rows(urls["warehouse"], """
        SELECT f.action_id, f.assignment_id, f.assignment_priority, f.step_action_required, f.step_sla_hours,
               f.step_is_final, nullif(d.designation_code, 'UNKNOWN')
        FROM fact_application_processing f JOIN dim_designation d USING (designation_key)""")
    assert loaded and all(expected[r[0]] == r[1:] for r in loaded), [r for r in loaded if expected[r[0]] != r[1:]][:3]
    # Both kinds occur: steps of a chain, and actions past their workflow's last step.
    assert {r[4] is None for r in loaded} == {True, False}
    assert scalar(urls["warehouse"], """SELECT count(*) FROM fact_application_processing WHERE
        step_sla_met IS DISTINCT FROM (processing_minutes <= step_sla_hours * 60)""") == 0
    assert scalar(urls["warehouse"], "SELECT count(*) FROM fact_application_processing WHERE NOT step_sla_met") > 0
    # The post is the version valid when the officer acted.
    assert scalar(urls["warehouse"], """SELECT count(*) FROM fact_application_processing f
        JOIN dim_designation d USING (designation_key)
        WHERE d.designation_key <> -1 AND NOT (f.action_at >= d.valid_from AND f.action_at < d.valid_to)""") == 0


def test_aggregate_equals_group_by_of_the_fact(loaded_template):
    wh = loaded_template[0]["warehouse"]
    diff = scalar(wh, """
        WITH g AS (
            SELECT f.submitted_date_key AS date_key, f.scheme_key, f.department_key,
                   coalesce(c.state, 'Unknown') AS state, coalesce(c.district, 'Unknown') AS district,
                   count(*) AS n, count(*) FILTER (WHERE f.status = 'approved') AS approved,
                   sum(f.amount_requested) AS requested,
                   avg(f.processing_days) FILTER (WHERE f.status IN ('approved', 'rejected')) AS days
            FROM fact_service_applications f JOIN dim_citizen c USING (citizen_key) GROUP BY 1, 2, 3, 4, 5)
        SELECT count(*) FROM g FULL JOIN agg_daily_applications a USING (date_key, scheme_key, department_key, state, district)
        WHERE a.applications_submitted IS DISTINCT FROM g.n OR a.applications_approved IS DISTINCT FROM g.approved
           OR a.amount_requested IS DISTINCT FROM g.requested
           OR a.avg_processing_days IS DISTINCT FROM round(g.days, 4)""")
    assert diff == 0
    assert scalar(wh, "SELECT count(*) FROM agg_daily_applications") > 0, "an empty aggregate proves nothing"


def test_step_sla_breaches_count_the_breached_steps_of_each_days_applications(loaded_template):
    """Per submission day, the aggregate's step_sla_breaches are the processing fact's steps with
    step_sla_met false of that day's applications, whatever day each step was taken."""
    wh = loaded_template[0]["warehouse"]
    breached = """FROM fact_application_processing p JOIN fact_service_applications f USING (application_id)
                  WHERE p.step_sla_met = false"""
    by_day = dict(rows(wh, f"SELECT f.submitted_date_key, count(*) {breached} GROUP BY 1"))
    assert by_day
    assert dict(rows(wh, "SELECT date_key, sum(step_sla_breaches) FROM agg_daily_applications GROUP BY 1 "
                         "HAVING sum(step_sla_breaches) > 0")) == by_day
    assert scalar(wh, f"SELECT count(*) {breached} AND p.action_date_key > f.submitted_date_key") > 0
    # Steps matching no chain step (step_sla_met null) are no breach.
    assert scalar(wh, "SELECT count(*) FROM fact_application_processing WHERE step_sla_met IS NULL") > 0


def test_decision_day_aggregate_counts_each_decision_once_on_its_day(loaded_template):
    wh = loaded_template[0]["warehouse"]
    by_day = dict(rows(wh, "SELECT decided_date_key, count(*) FROM fact_service_applications "
                           "WHERE status IN ('approved', 'rejected') GROUP BY 1"))
    assert by_day and dict(rows(wh, "SELECT date_key, sum(decisions) FROM agg_daily_decisions GROUP BY 1")) == by_day
    assert scalar(wh, "SELECT sum(amount_disbursed) FROM agg_daily_decisions") == scalar(
        wh, "SELECT sum(amount_disbursed) FROM fact_service_applications WHERE status IN ('approved', 'rejected')")
    assert scalar(wh, "SELECT count(*) FROM agg_daily_decisions WHERE approval_rate <> round(approvals::numeric / decisions, 5)") == 0
    # The submission-day aggregate's rates split its decided applications.
    assert scalar(wh, """SELECT count(*) FROM agg_daily_applications WHERE approval_rate IS DISTINCT FROM
                         round(applications_approved::numeric / nullif(applications_approved + applications_rejected, 0), 5)
                         OR abs(approval_rate + rejection_rate - 1) > 0.00002""") == 0
    assert scalar(wh, "SELECT count(*) FROM agg_daily_applications WHERE approval_rate IS NOT NULL") > 0


def test_scattered_days_are_read_as_runs_of_consecutive_days():
    """A merge's checks read the source per interval of consecutive IST days (reconcile.py)."""
    from datetime import datetime, timedelta

    from smart_warehouse_assets.partitions import IST, DayRange

    days = [date(2026, 9, d) for d in (1, 2, 3, 5, 8, 9)]
    starts, ends = DayRange.of(days, date(2026, 9, 1)).windows()
    at = lambda d: datetime.combine(d, datetime.min.time(), IST)  # noqa: E731
    assert list(zip(starts, ends)) == [(at(date(2026, 9, 1)), at(date(2026, 9, 4))),
                                       (at(date(2026, 9, 5)), at(date(2026, 9, 6))),
                                       (at(date(2026, 9, 8)), at(date(2026, 9, 10)))]
    every = DayRange.of([date(2026, 9, 1) + timedelta(days=i) for i in range(90)], date(2026, 9, 1)).windows()
    assert len(every[0]) == 1
    assert DayRange.of([], date(2026, 9, 1)).windows() == ([], [])


def test_dim_date_calendar():
    from smart_warehouse_assets.dimensions.calendar import calendar

    frame = calendar({date(2026, 3, 4): "Holi"}, batch_id=1)
    day = {r["full_date"]: r for r in frame.iter_rows(named=True)}
    assert (day[date(2026, 4, 1)]["fiscal_year"], day[date(2026, 4, 1)]["fiscal_quarter"]) == (2026, 1)
    assert (day[date(2027, 3, 31)]["fiscal_year"], day[date(2027, 3, 31)]["fiscal_quarter"]) == (2026, 4)
    assert day[date(2026, 11, 29)]["day_of_week"] == 7 and day[date(2026, 11, 29)]["is_weekend"]
    assert day[date(2026, 11, 23)]["day_of_week"] == 1 and not day[date(2026, 11, 23)]["is_weekend"]
    assert day[date(2026, 8, 15)]["holiday_name"] == "Independence Day"
    assert day[date(2026, 3, 4)]["holiday_name"] == "Holi" and day[date(2026, 3, 4)]["is_holiday"]
    assert not day[date(2026, 3, 5)]["is_holiday"]
    assert day[date(2026, 9, 1)]["date_key"] == 20260901
    # Working days: weekdays that are no national holiday, numbered from the calendar's first day.
    assert day[date(2026, 3, 4)]["is_working_day"] is False and day[date(2026, 3, 5)]["is_working_day"]
    assert not day[date(2026, 11, 29)]["is_working_day"]
    assert day[date(2026, 3, 6)]["working_day_number"] - day[date(2026, 3, 3)]["working_day_number"] == 2
    assert frame["working_day_number"].max() == frame["is_working_day"].sum()


def test_processing_working_days_follow_the_applicants_state(loaded_template):
    """The shipped holidays in the test world: Janmashtami (4 September 2026, national) and
    Ganesh Chaturthi (14 September, Maharashtra and Karnataka only)."""
    wh = loaded_template[0]["warehouse"]
    assert scalar(wh, "SELECT is_working_day FROM dim_date WHERE full_date = '2026-09-04'") is False
    assert scalar(wh, "SELECT is_working_day FROM dim_date WHERE full_date = '2026-09-14'") is True
    assert rows(wh, "SELECT state FROM dim_holiday WHERE full_date = '2026-09-14' ORDER BY state") == [
        ("Karnataka",), ("Maharashtra",)]
    # Recomputed day by day from the calendar: each decided application's working days.
    wrong = scalar(wh, """
        SELECT count(*) FROM fact_service_applications f
        JOIN dim_citizen c USING (citizen_key)
        CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM dim_date d
            WHERE d.full_date > (f.submitted_at AT TIME ZONE 'Asia/Kolkata')::date
              AND d.full_date <= (f.decided_at AT TIME ZONE 'Asia/Kolkata')::date
              AND d.is_working_day
              AND NOT EXISTS (SELECT 1 FROM dim_holiday h WHERE h.date_key = d.date_key AND h.state = c.state)) w
        WHERE f.decided_at IS NOT NULL AND f.processing_working_days IS DISTINCT FROM w.n""")
    assert wrong == 0
    assert scalar(wh, "SELECT count(*) FROM fact_service_applications WHERE decided_at IS NULL "
                      "AND processing_working_days IS NOT NULL") == 0
    # The state holiday counts where it is observed and only there: both cases occur.
    spans = ("FROM fact_service_applications f JOIN dim_citizen c USING (citizen_key) "
             "WHERE f.submitted_date_key < 20260914 AND f.decided_date_key = 20260914 AND c.state {} "
             "AND f.processing_working_days < (SELECT count(*) FROM dim_date d WHERE d.is_working_day "
             "AND d.date_key > f.submitted_date_key AND d.date_key <= f.decided_date_key)")
    assert scalar(wh, "SELECT count(*) " + spans.format("IN ('Maharashtra', 'Karnataka')")) > 0
    assert scalar(wh, "SELECT count(*) " + spans.format("NOT IN ('Maharashtra', 'Karnataka')")) == 0


def test_rematerializing_changes_nothing(loaded):
    urls, _ = loaded
    wh = urls["warehouse"]
    tables = [*FACTS, *DIMENSIONS]
    before = {t: contents(wh, t) for t in tables}
    before_rejected = contents(wh, "rejected_rows", "staging")
    load_warehouse(urls, TEST_START, LAST_DAY)  # the whole range again
    load_warehouse(urls, date(2026, 9, 5), date(2026, 9, 7))  # and a range inside it
    for t in tables:
        assert contents(wh, t) == before[t], t
    strip = lambda rs: [r[2:-1] for r in rs]  # noqa: E731  (rejected_id, batch_id, rejected_at name the load)
    assert strip(contents(wh, "rejected_rows", "staging")) == strip(before_rejected)
    assert scalar(wh, "SELECT count(*) FROM etl_batches WHERE status <> 'success'") == 0


def test_every_loaded_row_carries_its_successful_batch(loaded_template):
    wh = loaded_template[0]["warehouse"]
    for table in (*FACTS, *DIMENSIONS):
        assert scalar(wh, f"SELECT count(*) FROM {table}") > 1, table  # more than the unknown member
        key = {"dim_date": "date_key"}.get(table)
        has_unknown = table.startswith("dim_") and table != "dim_holiday"  # a holiday list has no unknown member
        unknown = f" AND {key or table.replace('dim_', '') + '_key'} <> -1" if has_unknown else ""
        assert scalar(wh, f"""SELECT count(*) FROM {table} t LEFT JOIN etl_batches b ON b.batch_id = t.etl_batch_id
                              WHERE (b.status IS DISTINCT FROM 'success'){unknown}""") == 0, table


def test_a_citizen_who_moved_gets_a_second_version_and_facts_follow_it(loaded):
    urls, _ = loaded
    wh, citizen = urls["warehouse"], urls["citizen"]
    # The citizen with the most applications on both sides of the move moves on day 8 at noon IST.
    moved_at = "2026-09-08 12:00:00+05:30"
    cid, old_district = rows(citizen, """
        SELECT c.citizen_id, c.district FROM citizens c JOIN service_applications a USING (citizen_id)
        WHERE a.submitted_at IS NOT NULL GROUP BY 1, 2
        HAVING count(*) FILTER (WHERE a.submitted_at < %s) > 0 AND count(*) FILTER (WHERE a.submitted_at >= %s) > 0
        ORDER BY count(*) DESC, 1 LIMIT 1""", (moved_at, moved_at))[0]
    with psycopg.connect(citizen) as conn:
        conn.execute("UPDATE citizens SET district = 'Nashik', city = 'Nashik', updated_at = %s WHERE citizen_id = %s",
                     (moved_at, cid))
    load_warehouse(urls, TEST_START, LAST_DAY)
    versions = rows(wh, """SELECT citizen_key, district, valid_from, valid_to, is_current FROM dim_citizen
                           WHERE citizen_id = %s ORDER BY valid_from""", (cid,))
    assert len(versions) == 2
    (old_key, d1, _, closed_at, cur1), (new_key, d2, opened_at, _, cur2) = versions
    assert (d1, d2, cur1, cur2) == (old_district, "Nashik", False, True)
    assert closed_at == opened_at and opened_at.isoformat().startswith("2026-09-08T06:30")
    facts = rows(wh, "SELECT submitted_at >= %s, citizen_key FROM fact_service_applications f "
                     "JOIN dim_citizen c USING (citizen_key) WHERE c.citizen_id = %s", (moved_at, cid))
    assert {after: key for after, key in facts} == {False: old_key, True: new_key}
    # The aggregate counts the application in the district of the version valid that day.
    assert scalar(wh, "SELECT count(*) FROM agg_daily_applications WHERE district = 'Nashik' AND date_key >= 20260908") > 0


def test_a_rejected_write_rolls_the_partition_back_whole(loaded):
    urls, _ = loaded
    wh = urls["warehouse"]
    before = contents(wh, "fact_service_applications")
    # The warehouse refuses one row of 2026-09-03 (as a constraint added by a careless migration would).
    victim = scalar(wh, "SELECT application_id FROM fact_service_applications WHERE submitted_date_key = 20260903 LIMIT 1")
    with psycopg.connect(wh) as conn:
        conn.execute(f"ALTER TABLE fact_service_applications ADD CONSTRAINT no_victim CHECK (application_id <> '{victim}')"
                     " NOT VALID")
    result = load_warehouse(urls, date(2026, 9, 2), date(2026, 9, 4),
                            selection=dg.AssetSelection.assets("fact_service_applications"), raise_on_error=False)
    assert not result.success
    assert contents(wh, "fact_service_applications") == before
    status, error = rows(wh, "SELECT status, error_message FROM etl_batches WHERE asset_key = 'fact_service_applications' "
                             "ORDER BY batch_id DESC LIMIT 1")[0]
    assert status == "failed" and "no_victim" in error


def test_lineage_runs_from_portal_tables_to_the_aggregate():
    from smart_warehouse_assets.definitions import defs

    graph = defs.resolve_asset_graph()

    def ancestors(key: dg.AssetKey) -> set[str]:
        seen, todo = set(), [key]
        while todo:
            for parent in graph.get(todo.pop()).parent_keys:
                if parent.to_user_string() not in seen:
                    seen.add(parent.to_user_string())
                    todo.append(parent)
        return seen

    up = ancestors(dg.AssetKey("agg_daily_applications"))
    assert {"fact_service_applications", "dim_citizen", "dim_scheme", "dim_department", "dim_date",
            "staging/service_applications", "smart_citizen/service_applications", "smart_citizen/citizens",
            "smart_citizen/schemes", "smart_dept/departments"} <= up
    assert "smart_dept/processing_actions" in ancestors(dg.AssetKey("fact_application_processing"))
    assert "fact_application_processing" in up  # its step-SLA breaches
    assert "smart_aiml/predictions" in ancestors(dg.AssetKey("fact_eligibility_scoring"))


def test_the_aggregates_planner_settings_hold_in_its_load_its_merge_and_its_check(database_urls, monkeypatch):
    """AGG_DAILY_APPLICATIONS.settings reach its select in a replace, a merge and the check's
    query (set local: a connection in autocommit would drop them silently)."""
    from dataclasses import replace

    from psycopg import sql

    from smart_warehouse_assets.aggregates import daily_applications
    from smart_warehouse_assets.aggregates.daily_applications import AGG_DAILY_APPLICATIONS
    from smart_warehouse_assets.batches import Batch
    from smart_warehouse_assets.facts.load import merge_rows, replace_days
    from smart_warehouse_assets.partitions import DayRange
    from smart_warehouse_assets.quality.rules import query_rows
    from smart_warehouse_assets.quality.spec import CheckScope, QualityThresholds
    from smart_warehouse_assets.resources import PostgresResource

    wh = database_urls["warehouse"]
    settings = AGG_DAILY_APPLICATIONS.settings
    seen = "concat_ws(',', " + ", ".join(f"current_setting('{name}')" for name, _ in settings) + ")"
    wanted = ",".join(value for _, value in settings)
    assert scalar(wh, f"SELECT {seen}") != wanted, "the server's own settings would prove nothing"
    # The aggregate's columns, the settings its statement ran with in district; the merge
    # recomputes its groups with a select of its own (a whole day queued: every group of the day).
    select = f"""
        SELECT 20260901, 1::bigint, 1::bigint, 'probe', {seen}, 1, 1, 0, 0, 0, NULL::numeric, NULL::numeric,
               NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, 0
        WHERE 20260901 BETWEEN %(first_key)s AND %(last_key)s"""
    merge = AGG_DAILY_APPLICATIONS.merge
    probe = replace(AGG_DAILY_APPLICATIONS, select=select,
                    merge=replace(merge, regroup=replace(merge.regroup, select=select)))
    resource = PostgresResource(url=wh)
    day = DayRange(date(2026, 9, 1), date(2026, 9, 1))
    replace_days(probe, resource, Batch(batch_id=1, asset_key=probe.table, days=day), day)
    assert rows(wh, "SELECT district FROM agg_daily_applications") == [(wanted,)]

    with psycopg.connect(wh) as conn:
        conn.execute("UPDATE agg_daily_applications SET district = 'stale'")
        conn.execute("INSERT INTO staging.pending_merge (asset_key, merge_key, batch_id) VALUES (%s, '20260901', 2)",
                     (probe.table,))
    merge_rows(probe, resource, Batch(batch_id=3, asset_key=probe.table, days=day))
    assert rows(wh, "SELECT district FROM agg_daily_applications") == [(wanted,)]

    scope = CheckScope(warehouse=resource, portals={}, days=day, thresholds=QualityThresholds())
    assert query_rows(scope, sql.SQL(f"SELECT {seen}"), settings=settings) == [(wanted,)]
    # matches_fact_group_by runs the select through query_rows with the same settings.
    given = []
    monkeypatch.setattr(daily_applications, "query_rows",
                        lambda scope, query, params, settings=(): given.append(settings) or [])
    next(c for c in daily_applications.CHECKS if c.name == "matches_fact_group_by").evaluate(scope)
    assert given == [settings]


def test_the_pipelines_sessions_run_without_jit_and_keep_the_urls_own_options(database_urls, monkeypatch):
    """JIT compiling costs more than it saves on the pipeline's short statements; a URL's own
    options, or else PGOPTIONS's, still reach the server, and a resource may ask for JIT back."""
    from smart_warehouse_assets.resources import PostgresResource

    wh = database_urls["warehouse"]
    assert scalar(wh, "SHOW jit") == "on", "the server's own setting would prove nothing"
    with PostgresResource(url=wh).connect() as conn:
        assert conn.execute("SHOW jit").fetchone()[0] == "off"
    separator = "&" if "?" in wh else "?"
    with PostgresResource(url=f"{wh}{separator}options=-c%20statement_timeout%3D4321").connect() as conn:
        assert conn.execute("SELECT current_setting('jit'), current_setting('statement_timeout')").fetchone() == (
            "off", "4321ms")
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=1234")
    with PostgresResource(url=wh).connect() as conn:
        assert conn.execute("SELECT current_setting('jit'), current_setting('statement_timeout')").fetchone() == (
            "off", "1234ms")
    monkeypatch.delenv("PGOPTIONS")
    with PostgresResource(url=wh, jit=True).connect() as conn:
        assert conn.execute("SHOW jit").fetchone()[0] == "on"
    assert scalar(wh, "SHOW jit") == "on"  # the server's setting is left alone


def test_a_range_run_taking_over_moved_rows_recomputes_the_days_they_left(loaded):
    # A decided application's submission is corrected to an earlier day and a prediction's
    # time to a later one, and only that day is loaded again: both rows move there, and what
    # they fed on the days they left (both outside the run's range) follows — the aggregates
    # of the application's old submission day and its decision day, the model performance of
    # the prediction's old day, the training set's files of both days and of the applicant's
    # later predictions — as a load of every day would have them.
    urls, _ = loaded
    wh = urls["warehouse"]
    assert load_warehouse(urls, TEST_START, LAST_DAY, selection=dg.AssetSelection.assets(  # a copy has no folder
        dg.AssetKey.from_user_string("training/eligibility_scoring"))).success
    new_day = date(2026, 9, 3)
    with psycopg.connect(urls["citizen"]) as citizen:
        app, old_day = citizen.execute(
            "SELECT application_id, (submitted_at AT TIME ZONE 'Asia/Kolkata')::date FROM service_applications "
            "WHERE status IN ('approved', 'rejected') AND (submitted_at AT TIME ZONE 'Asia/Kolkata')::date >= %s "
            "AND (decided_at AT TIME ZONE 'Asia/Kolkata')::date <= %s ORDER BY submitted_at, application_id LIMIT 1",
            (date(2026, 9, 7), LAST_DAY)).fetchone()
        citizen.execute("UPDATE service_applications SET submitted_at = submitted_at - make_interval(days => %s), "
                        "updated_at = now() WHERE application_id = %s", ((old_day - new_day).days, app))
    with psycopg.connect(urls["aiml"]) as aiml:
        (prediction,) = aiml.execute(
            "UPDATE predictions SET predicted_at = predicted_at + interval '1 day', updated_at = now() "
            "WHERE prediction_id = (SELECT prediction_id FROM predictions WHERE use_case_code = 'ELIGIBILITY_SCORING' "
            "AND status <> 'deleted' AND (predicted_at AT TIME ZONE 'Asia/Kolkata')::date = %s "
            "ORDER BY prediction_id LIMIT 1) RETURNING prediction_id", (new_day - timedelta(days=1),)).fetchone()
    assert load_warehouse(urls, new_day, new_day).success

    def state():
        # step_sla_breaches (last column) left out: the range run reloads no other day's actions,
        # whose minutes count from the corrected submission. Model performance of eligibility
        # only: the other use cases' outcomes depend on the clock of their extraction.
        return {"fact_service_applications": contents(wh, "fact_service_applications"),
                "agg_daily_decisions": contents(wh, "agg_daily_decisions"),
                "agg_daily_applications": [r[:-1] for r in contents(wh, "agg_daily_applications")],
                "fact_eligibility_scoring": contents(wh, "fact_eligibility_scoring"),
                "agg_model_performance": [r for r in contents(wh, "agg_model_performance")
                                          if r[2] == "ELIGIBILITY_SCORING"],
                "training": training_days(wh)}

    new_key = int(new_day.strftime("%Y%m%d"))
    assert rows(wh, "SELECT submitted_date_key FROM fact_service_applications WHERE application_id = %s", (app,)) \
        == [(new_key,)]
    assert rows(wh, "SELECT prediction_date_key FROM fact_eligibility_scoring WHERE prediction_id = %s",
                (prediction,)) == [(new_key,)]
    after_one_day = state()
    assert load_warehouse(urls, TEST_START, LAST_DAY).success
    every_day = state()
    for table in every_day:
        assert after_one_day[table] == every_day[table], table
