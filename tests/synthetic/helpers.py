"""What the synthetic-portal tests share: the seeded period, queries, checksums and the
rules that find dirty rows and lifecycle breaks."""

from __future__ import annotations

import re
from datetime import date

import psycopg
from psycopg import sql

from smart_warehouse_assets.paths import SQL_ROOT
from smart_warehouse_assets.synthetic.core import PRIMARY_KEYS, TABLES
from smart_warehouse_assets.synthetic.reference import DISTRICTS
from smart_warehouse_assets.synthetic.seeding import Builder

START = date(2026, 1, 12)  # the period includes 26 January
DAYS = 20
LAST_SEEDED = date.fromordinal(START.toordinal() + DAYS - 1)
SCALE = 0.05
PORTALS = ("citizen", "dept", "aiml", "monitor")
QUIET = {"log": lambda *_: None}
# The use cases the migration seeds (seed reads them from the database).
USE_CASES = sorted(re.findall(r"^\s*\('([A-Z_]+)'", (SQL_ROOT / "aiml" / "003_ml_use_cases.sql").read_text(), re.M))


class SmallBlocks(Builder):
    """The generator with blocks so small that a small world spans many of them."""
    APPLICATIONS_PER_BLOCK = 512
    CITIZENS_PER_BLOCK = 2048
    MONITORED_ROWS_PER_BLOCK = 1024


def portals(urls: dict[str, str]) -> dict[str, str]:
    return {k: urls[k] for k in PORTALS}


def rows(url: str, query, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def ids(url: str, query: str, params=()) -> set[str]:
    return {r[0] for r in rows(url, query, params)}


def checksums(urls: dict[str, str]) -> dict[str, str]:
    """Row count and a digest of every row of every portal table."""
    out = {}
    for db in PORTALS:
        for table in ("ml_use_cases", *TABLES[db]) if db == "aiml" else TABLES[db]:
            q = sql.SQL("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.{pk})), '') "
                        "FROM {t} AS t").format(t=sql.Identifier(table), pk=sql.Identifier(PRIMARY_KEYS[table]))
            with psycopg.connect(urls[db]) as conn:
                out[f"{db}.{table}"] = conn.execute(q).fetchone()[0]
    return out


def dirty_now(urls: dict[str, str]) -> dict[str, set[str]]:
    """Each dirty rule evaluated over its whole table."""
    c, canonical = urls["citizen"], sorted({d[1] for d in DISTRICTS})
    apps = ids(c, "SELECT application_id::text FROM service_applications")
    return {
        "orphan_action": {a for a, app in rows(urls["dept"], "SELECT action_id::text, application_id::text "
                                                             "FROM processing_actions") if app not in apps},
        "orphan_prediction": {p for p, app in rows(urls["aiml"], "SELECT prediction_id::text, application_id::text "
                              "FROM predictions WHERE application_id IS NOT NULL") if app not in apps},
        "decision_before_submission": ids(c, "SELECT application_id::text FROM service_applications "
                                             "WHERE decided_at < submitted_at"),
        "future_timestamp": ids(c, "SELECT application_id::text FROM service_applications "
                                   "WHERE decided_at > now() + interval '1 year'"),
        "approved_above_requested": ids(c, "SELECT application_id::text FROM service_applications "
                                           "WHERE amount_approved > amount_requested"),
        "negative_amount": ids(c, "SELECT application_id::text FROM service_applications WHERE amount_requested < 0"),
        "odd_district": {i for i, d in rows(c, "SELECT citizen_id::text, district FROM citizens") if d not in canonical},
        "gender_vocabulary": ids(c, "SELECT citizen_id::text FROM citizens "
                                    "WHERE gender NOT IN ('male', 'female', 'other')"),
        "scheme_unknown_department": set(),  # checked across databases in the reference test
    }


def assert_lifecycle(urls: dict[str, str], manifest: dict) -> None:
    """The lifecycle invariants, with the manifest's dirty rows as the only exceptions."""
    c, m = urls["citizen"], manifest
    # The history is a chain that starts from nothing as a draft and ends in the status.
    assert rows(c, """
        SELECT count(*) FROM service_applications a
        JOIN LATERAL (SELECT to_status FROM application_status_history h WHERE h.application_id = a.application_id
                      ORDER BY changed_at DESC, to_status LIMIT 1) last ON true
        WHERE last.to_status <> a.status""")[0][0] == 0
    assert rows(c, "SELECT count(*) FROM service_applications a WHERE NOT EXISTS (SELECT 1 FROM application_status_history h "
                   "WHERE h.application_id = a.application_id AND h.from_status IS NULL AND h.to_status = 'draft')")[0][0] == 0
    assert rows(c, """
        SELECT count(*) FROM (
            SELECT from_status, lag(to_status) OVER (PARTITION BY application_id ORDER BY changed_at, to_status) AS prev
            FROM application_status_history) h
        WHERE h.from_status IS DISTINCT FROM h.prev""")[0][0] == 0
    statuses = dict(rows(c, "SELECT status, count(*) FROM service_applications GROUP BY 1"))
    assert set(statuses) == {"draft", "submitted", "under_review", "approved", "rejected", "withdrawn"}, statuses
    # Decided exactly when approved or rejected; decisions follow submissions, except the listed dirty rows.
    assert rows(c, "SELECT count(*) FROM service_applications "
                   "WHERE (decided_at IS NOT NULL) <> (status IN ('approved', 'rejected'))")[0][0] == 0
    early = ids(c, "SELECT application_id::text FROM service_applications WHERE decided_at < submitted_at")
    assert early == set(m["dirty"]["decision_before_submission"]["ids"])
    # Approved amounts never exceed the request, except the listed dirty rows; payments only for approvals.
    above = ids(c, "SELECT application_id::text FROM service_applications WHERE amount_approved > amount_requested")
    assert above == set(m["dirty"]["approved_above_requested"]["ids"])
    assert rows(c, "SELECT count(*) FROM payments p JOIN service_applications a USING (application_id) "
                   "WHERE a.status <> 'approved'")[0][0] == 0
    # Actions are numbered 1..n per application, in time order, never before submission.
    with psycopg.connect(c) as conn:
        apps = {a: (sub, status) for a, sub, status in conn.execute(
            "SELECT application_id::text, submitted_at, status FROM service_applications")}
    acts = rows(urls["dept"], "SELECT application_id::text, step_number, action_at FROM processing_actions "
                              "ORDER BY application_id, step_number")
    by_app: dict[str, list] = {}
    for app, step, at in acts:
        by_app.setdefault(app, []).append((step, at))
    for app, steps in by_app.items():
        assert [s for s, _ in steps] == list(range(1, len(steps) + 1)), app
        assert [t for _, t in steps] == sorted(t for _, t in steps), app
        if app in apps:
            assert steps[0][1] >= apps[app][0], app
    # An assignment is completed exactly when its application is decided or withdrawn.
    for app, status in rows(urls["dept"], "SELECT application_id::text, assignment_status FROM application_assignments"):
        assert (status == "completed") == (apps[app][1] in ("approved", "rejected", "withdrawn")), (app, status)
