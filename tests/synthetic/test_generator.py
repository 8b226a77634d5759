"""The synthetic portals: reproducible, consistent, dirty exactly where the manifest says,
and alive (simulate changes older applications)."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from psycopg import sql

from smart_warehouse_assets.synthetic import SyntheticDataError, seed, simulate
from smart_warehouse_assets.synthetic.core import PRIMARY_KEYS, TABLES
from smart_warehouse_assets.synthetic.generator import bad_count
from smart_warehouse_assets.synthetic.reference import DISTRICTS

START = date(2026, 1, 12)  # the period includes 26 January
DAYS = 20
SCALE = 0.05
PORTALS = ("citizen", "dept", "aiml", "monitor")
QUIET = {"log": lambda *_: None}


def portals(urls: dict[str, str]) -> dict[str, str]:
    return {k: urls[k] for k in PORTALS}


def rows(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def ids(url: str, query: str) -> set[str]:
    return {r[0] for r in rows(url, query)}


@pytest.fixture(scope="module")
def world(make_database_set, migrated_template):
    urls = portals(make_database_set(template=migrated_template, label="syn"))
    manifest = seed(urls, scale=SCALE, start=START, days=DAYS, **QUIET)
    return urls, manifest


def checksums(urls: dict[str, str]) -> dict[str, str]:
    out = {}
    for db in PORTALS:
        for table in ("ml_use_cases", *TABLES[db]) if db == "aiml" else TABLES[db]:
            q = sql.SQL("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.{pk})), '') "
                        "FROM {t} AS t").format(t=sql.Identifier(table), pk=sql.Identifier(PRIMARY_KEYS[table]))
            with psycopg.connect(urls[db]) as conn:
                out[f"{db}.{table}"] = conn.execute(q).fetchone()[0]
    return out


def test_same_seed_gives_identical_tables(world, make_database_set, migrated_template):
    urls, manifest = world
    other = portals(make_database_set(template=migrated_template, label="syn"))
    again = seed(other, scale=SCALE, start=START, days=DAYS, **QUIET)
    assert checksums(urls) == checksums(other)
    strip = lambda m: {k: v for k, v in m.items() if k != "timing"}  # noqa: E731
    assert strip(manifest) == strip(again)
    assert all(n > 0 for n in manifest["rows"].values()), manifest["rows"]


def test_seed_refuses_a_populated_portal(world):
    urls, _ = world
    with pytest.raises(SyntheticDataError, match="replace=True"):
        seed(urls, scale=SCALE, start=START, days=DAYS, **QUIET)


def test_every_foreign_key_is_indexed(world):
    urls, _ = world
    for db in PORTALS:
        missing = rows(urls[db], """
            SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c
            WHERE c.contype = 'f' AND NOT EXISTS (
                SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                  AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)""")
        assert missing == [], f"{db}: unindexed foreign keys {missing}"


def test_cross_database_references_hold_except_listed_orphans(world):
    urls, m = world
    apps = ids(urls["citizen"], "SELECT application_id::text FROM service_applications")
    docs = ids(urls["citizen"], "SELECT document_id::text FROM documents")
    action_apps = rows(urls["dept"], "SELECT action_id::text, application_id::text FROM processing_actions")
    orphan_actions = {a for a, app in action_apps if app not in apps}
    assert orphan_actions == set(m["dirty"]["orphan_action"]["ids"])
    for q in ("SELECT application_id::text FROM application_assignments",
              "SELECT application_id::text FROM document_verifications",
              "SELECT application_id::text FROM dept_notifications WHERE application_id IS NOT NULL"):
        assert ids(urls["dept"], q) <= apps, q
    assert ids(urls["dept"], "SELECT document_id::text FROM document_verifications") <= docs
    preds = rows(urls["aiml"], "SELECT prediction_id::text, application_id::text FROM predictions "
                               "WHERE application_id IS NOT NULL")
    assert {p for p, app in preds if app not in apps} == set(m["dirty"]["orphan_prediction"]["ids"])
    codes = ids(urls["dept"], "SELECT department_code FROM departments")
    unknown = ids(urls["citizen"], "SELECT scheme_id::text FROM schemes WHERE department_code <> ALL(%s)" % (
        "ARRAY[" + ",".join(f"'{c}'" for c in sorted(codes)) + "]"))
    assert unknown == set(m["dirty"]["scheme_unknown_department"]["ids"])


def test_lifecycle_invariants(world):
    urls, m = world
    c = urls["citizen"]
    # The last history row matches the application's status; the first starts from nothing.
    assert rows(c, """
        SELECT count(*) FROM service_applications a
        JOIN LATERAL (SELECT to_status FROM application_status_history h WHERE h.application_id = a.application_id
                      ORDER BY changed_at DESC, to_status LIMIT 1) last ON true
        WHERE last.to_status <> a.status""")[0][0] == 0
    assert rows(c, "SELECT count(*) FROM service_applications a WHERE NOT EXISTS (SELECT 1 FROM application_status_history h "
                   "WHERE h.application_id = a.application_id AND h.from_status IS NULL AND h.to_status = 'draft')")[0][0] == 0
    statuses = dict(rows(c, "SELECT status, count(*) FROM service_applications GROUP BY 1"))
    assert set(statuses) == {"draft", "submitted", "under_review", "approved", "rejected", "withdrawn"}, statuses
    # Decisions follow submissions, except the listed dirty rows.
    early = ids(c, "SELECT application_id::text FROM service_applications WHERE decided_at < submitted_at")
    assert early == set(m["dirty"]["decision_before_submission"]["ids"])
    # Actions are numbered 1..n per application, in time order, never before submission.
    with psycopg.connect(c) as conn:
        subs = dict(conn.execute("SELECT application_id::text, submitted_at FROM service_applications"))
    acts = rows(urls["dept"], "SELECT application_id::text, step_number, action_at FROM processing_actions "
                              "ORDER BY application_id, step_number")
    by_app: dict[str, list] = {}
    for app, step, at in acts:
        by_app.setdefault(app, []).append((step, at))
    for app, steps in by_app.items():
        assert [s for s, _ in steps] == list(range(1, len(steps) + 1)), app
        assert [t for _, t in steps] == sorted(t for _, t in steps), app
        if app in subs:
            assert steps[0][1] >= subs[app], app
    # Approved amounts never exceed the request, except the listed dirty rows.
    above = ids(c, "SELECT application_id::text FROM service_applications WHERE amount_approved > amount_requested")
    assert above == set(m["dirty"]["approved_above_requested"]["ids"])
    # Fewer submissions on Sundays and on 26 January than on an average weekday.
    per_day = dict(rows(c, "SELECT (submitted_at AT TIME ZONE 'Asia/Kolkata')::date, count(*) "
                           "FROM service_applications WHERE submitted_at IS NOT NULL GROUP BY 1"))
    weekdays = [n for d, n in per_day.items() if d.isoweekday() <= 5 and (d.month, d.day) != (1, 26)]
    assert per_day.get(date(2026, 1, 26), 0) < sum(weekdays) / len(weekdays)


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


def test_dirty_rows_are_exactly_the_manifest(world):
    urls, m = world
    found = dirty_now(urls)
    assert set(m["dirty"]) == set(found)
    for kind, rule_ids in found.items():
        listed = set(m["dirty"][kind]["ids"])
        if kind != "scheme_unknown_department":
            assert rule_ids == listed, kind
        table = m["dirty"][kind]["table"]
        assert len(listed) == bad_count(0.002, m["rows"][table]), kind
    # One defect per row: the application kinds never overlap.
    app_kinds = ["decision_before_submission", "future_timestamp", "approved_above_requested", "negative_amount"]
    listed = [i for k in app_kinds for i in m["dirty"][k]["ids"]]
    assert len(listed) == len(set(listed))
    # Odd districts are real districts in odd spelling.
    canonical = {d[1].lower() for d in DISTRICTS}
    for (d,) in rows(urls["citizen"], "SELECT district FROM citizens WHERE citizen_id = ANY(%s::uuid[])",
                     (m["dirty"]["odd_district"]["ids"],)):
        assert " ".join(d.split()).lower() in canonical, d


def test_simulate_changes_older_days_and_stays_clean(make_database_set, migrated_template):
    urls = portals(make_database_set(template=migrated_template, label="sim"))
    m = seed(urls, scale=SCALE, start=START, days=DAYS, **QUIET)
    before = dict(rows(urls["citizen"], "SELECT application_id::text, status || coalesce(decided_at::text, '') "
                                        "FROM service_applications"))
    summary = simulate(urls, days=2, seed=7, **QUIET)
    after = rows(urls["citizen"], "SELECT application_id::text, status || coalesce(decided_at::text, ''), "
                                  "(submitted_at AT TIME ZONE 'Asia/Kolkata')::date FROM service_applications")
    last_seeded = date.fromordinal(START.toordinal() + DAYS - 1)
    changed_old = [d for app, s, d in after if app in before and before[app] != s]
    assert changed_old and min(changed_old) < last_seeded, "no earlier application was moved on"
    assert len(after) > len(before), "no new applications"
    assert summary["changed_days"] == sorted(summary["changed_days"])
    assert min(summary["changed_days"]) < last_seeded.isoformat()
    assert summary["inserted"]["citizen.service_applications"] > 0
    assert summary["updated"]["citizen.service_applications"] > 0
    # simulate injects nothing dirty: every rule still finds exactly the seeded rows.
    found = dirty_now(urls)
    for kind, rule_ids in found.items():
        if kind != "scheme_unknown_department":
            assert rule_ids == set(m["dirty"][kind]["ids"]), kind
