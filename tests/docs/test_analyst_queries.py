"""Every SQL example of docs/analysts.md runs on the loaded test warehouse and gives sensible rows.

The examples are taken from the guide itself (each fenced ```sql block, named by its first
comment line), so a query that stops working, or a new one that was never run, fails here.
Each runs read-only; every rate must lie in [0, 1] and no count or amount may be negative;
some examples are also checked against the fact tables they summarize.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"
_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.DOTALL | re.MULTILINE)
_RATE = re.compile(r"(rate|accuracy|share|precision|recall)")
# What the brief asks the guide to show: each must be the title of some example.
REQUIRED = ("district and fiscal quarter", "SLA compliance by scheme", "accuracy by model version",
            "etl_batches and etl_data_quality", "Decision time in working days", "Money paid out and failed",
            "Approval share per scheme per state", "breach their SLA most, by department")


def examples() -> dict[str, str]:
    out = {}
    for block in _BLOCK.findall(GUIDE.read_text()):
        first = block.splitlines()[0]
        assert first.startswith("-- "), f"a SQL example must start with a '-- title' line: {first!r}"
        out[first[3:].strip()] = block
    return out


def run(url: str, query: str) -> tuple[list[str], list[tuple]]:
    with psycopg.connect(url) as conn:
        conn.read_only = True
        with conn.cursor() as cur:
            cur.execute(query)
            return [c.name for c in cur.description], cur.fetchall()


def test_the_guide_has_the_required_examples():
    titles = list(examples())
    for topic in REQUIRED:
        assert any(topic.lower() in t.lower() for t in titles), f"no SQL example about {topic!r} in {titles}"


@pytest.mark.parametrize("title", list(examples()))
def test_example_runs_and_gives_sensible_rows(loaded_template, title):
    url = loaded_template[0]["warehouse"]
    columns, rows = run(url, examples()[title])
    assert rows, f"{title!r} returned no rows on the loaded test warehouse"
    for row in rows:
        for name, value in zip(columns, row):
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                assert value >= 0, f"{title!r}: {name} = {value} is negative"
                if _RATE.search(name):
                    assert 0 <= value <= 1, f"{title!r}: {name} = {value} is not a fraction"
    check = _SPECIFIC.get(title)
    if check:
        check(url, columns, rows)


def _column(columns, rows, name):
    return [row[columns.index(name)] for row in rows]


def _scalar(url: str, query: str):
    return run(url, query)[1][0][0]


def _approvals_match_the_fact(url, columns, rows):
    approved = _scalar(url, "SELECT count(*) FROM fact_service_applications WHERE status = 'approved'")
    submitted = _scalar(url, "SELECT count(*) FROM fact_service_applications")
    assert approved > 0
    assert sum(_column(columns, rows, "approved")) == approved
    assert sum(_column(columns, rows, "submitted")) == submitted
    assert set(_column(columns, rows, "fiscal_quarter")) <= {1, 2, 3, 4}


def _sla_matches_the_fact(url, columns, rows):
    decided = _scalar(url, "SELECT count(*) FROM fact_service_applications WHERE sla_met IS NOT NULL")
    assert sum(_column(columns, rows, "decided")) == decided
    for row in rows:
        r = dict(zip(columns, row))
        assert r["decided_within_sla"] <= r["decided"] <= r["submitted"]
        assert r["sla_compliance_rate"] == round(Decimal(r["decided_within_sla"]) / r["decided"], 3)


def _accuracy_is_consistent(url, columns, rows):
    assert sum(_column(columns, rows, "predictions")) == _scalar(url, "SELECT count(*) FROM fact_eligibility_scoring")
    for row in rows:
        r = dict(zip(columns, row))
        assert r["model_version"]
        assert r["decided"] <= r["predictions"]
        if r["decided"]:
            assert r["accuracy"] is not None


def _every_asset_loaded_and_passed(url, columns, rows):
    loaded = {r[0] for r in run(url, "SELECT DISTINCT asset_key FROM etl_batches")[1]}
    assert set(_column(columns, rows, "asset_key")) == loaded
    assert {"fact_service_applications", "agg_daily_applications"} <= loaded
    assert set(_column(columns, rows, "status")) == {"success"}
    assert sum(_column(columns, rows, "checks")) > 0
    assert set(_column(columns, rows, "checks_failed")) == {0}


def _working_days_below_calendar_days(url, columns, rows):
    decided = _scalar(url, "SELECT count(*) FROM fact_service_applications WHERE processing_working_days IS NOT NULL")
    assert decided > 0 and sum(_column(columns, rows, "decided")) == decided
    for row in rows:
        r = dict(zip(columns, row))
        assert r["avg_working_days"] <= r["avg_calendar_days"]


def _september_2026_in_maharashtra(url, columns, rows):
    # 22 weekdays; Janmashtami (4 Sep, national) and Ganesh Chaturthi (14 Sep, Maharashtra) from the shipped file.
    (row,) = rows
    r = dict(zip(columns, row))
    assert (r["national_working_days"], r["maharashtra_working_days"]) == (21, 20)


def _payments_match_the_facts(url, columns, rows):
    assert sum(_column(columns, rows, "payments")) == _scalar(url, "SELECT count(*) FROM fact_payments")
    assert sum(_column(columns, rows, "amount_paid_out")) == _scalar(
        url, "SELECT sum(amount_disbursed) FROM fact_service_applications")
    assert sum(_column(columns, rows, "failed")) > 0 and sum(_column(columns, rows, "amount_failed")) > 0


def _approval_share_matches_the_fact(url, columns, rows):
    expected = {(state, code): (decided, approved) for state, code, decided, approved in run(url, """
        SELECT coalesce(c.state, 'Unknown'), s.scheme_code, count(*), count(*) FILTER (WHERE f.status = 'approved')
        FROM fact_service_applications f JOIN dim_citizen c USING (citizen_key) JOIN dim_scheme s USING (scheme_key)
        WHERE f.status IN ('approved', 'rejected') GROUP BY 1, 2""")[1]}
    got = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    assert got == expected and len({state for state, _ in got}) > 1


def _step_breaches_match_the_fact(url, columns, rows):
    judged, breached = run(url, "SELECT count(step_sla_met), count(*) FILTER (WHERE NOT step_sla_met) "
                                "FROM fact_application_processing")[1][0]
    assert breached > 0
    assert sum(_column(columns, rows, "steps_judged")) == judged
    assert sum(_column(columns, rows, "breaches")) == breached
    assert _column(columns, rows, "breaches")[0] == max(_column(columns, rows, "breaches"))
    for row in rows:
        r = dict(zip(columns, row))
        assert r["step_action_required"] and r["step_sla_hours"] > 0
        assert r["breaches"] <= r["steps_judged"]
        assert (r["avg_hours_over_sla"] is None) == (r["breaches"] == 0)


def _aggregate_breaches_match_the_fact(url, columns, rows):
    breached = _scalar(url, "SELECT count(*) FROM fact_application_processing p JOIN fact_service_applications f "
                            "USING (application_id) WHERE NOT p.step_sla_met")
    assert breached > 0 and sum(_column(columns, rows, "step_sla_breaches")) == breached
    assert sum(_column(columns, rows, "applications")) == _scalar(url, "SELECT count(*) FROM fact_service_applications")
    assert _column(columns, rows, "step_sla_breaches")[0] == max(_column(columns, rows, "step_sla_breaches"))


_SPECIFIC = {
    "Step-SLA breaches by department and state (from the daily aggregate)": _aggregate_breaches_match_the_fact,
    "Workflow steps that breach their SLA most, by department (fact_application_processing)":
        _step_breaches_match_the_fact,
    "Approval share per scheme per state (from the decision-day aggregate)": _approval_share_matches_the_fact,
    "Money paid out and failed by department and scheme (fact_payments)": _payments_match_the_facts,
    "Decision time in working days by state and scheme": _working_days_below_calendar_days,
    "Working days of a month in one state (dim_date and dim_holiday)": _september_2026_in_maharashtra,
    "Approvals by district and fiscal quarter (from the daily aggregate)": _approvals_match_the_fact,
    "Approvals by district, fiscal quarter and channel (from the fact)": _approvals_match_the_fact,
    "SLA compliance by scheme": _sla_matches_the_fact,
    "Eligibility-model accuracy by model version": _accuracy_is_consistent,
    "Latest load of every table and its check verdicts (etl_batches and etl_data_quality)": _every_asset_loaded_and_passed,
}


def test_every_specific_check_names_an_example():
    assert set(_SPECIFIC) <= set(examples())
