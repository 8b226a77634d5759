"""simulate: deterministic, keeps the lifecycle, never writes the future, and moves on
applications submitted on earlier days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from psycopg import sql

from smart_warehouse_assets.synthetic import SyntheticDataError, seed, simulate
from smart_warehouse_assets.synthetic.core import TABLES
from tests.synthetic.helpers import (
    DAYS, LAST_SEEDED, PORTALS, QUIET, SCALE, START, assert_lifecycle, checksums, dirty_now, portals, rows,
)

IST = ZoneInfo("Asia/Kolkata")
# The seeded period ends on Saturday 31 January: simulate lives Sunday 1 February whole
# and Monday 2 February up to 15:00.
NOW = datetime(2026, 2, 2, 15, 0, tzinfo=IST)
# Timestamps that are about the future by nature (when a cache entry expires).
FUTURE_BY_NATURE = {("aiml", "analytics_cache", "expires_at")}


@pytest.fixture(scope="module")
def seeded(make_database_set, migrated_template):
    """A seeded world that tests only copy."""
    urls = make_database_set(template=migrated_template, label="simsrc")
    manifest = seed(portals(urls), scale=SCALE, start=START, days=DAYS, **QUIET)
    return urls, manifest


@pytest.fixture
def copy(make_database_set, seeded):
    template, manifest = seeded
    return portals(make_database_set(template=template, label="sim")), manifest


def timestamp_columns(url: str) -> list[tuple[str, str]]:
    return rows(url, "SELECT table_name, column_name FROM information_schema.columns "
                     "WHERE table_schema = 'public' AND data_type = 'timestamp with time zone' "
                     "ORDER BY 1, 2")


def test_same_state_seed_and_now_give_identical_portals(make_database_set, seeded):
    template, _ = seeded
    a, b = (portals(make_database_set(template=template, label="sim")) for _ in range(2))
    summary_a = simulate(a, days=2, seed=7, now=NOW, **QUIET)
    summary_b = simulate(b, days=2, seed=7, now=NOW, **QUIET)
    assert summary_a == summary_b
    assert checksums(a) == checksums(b)
    assert checksums(a) != checksums(portals(template)), "simulate changed nothing"


def test_simulate_keeps_the_lifecycle_invariants(copy):
    urls, m = copy
    simulate(urls, days=2, seed=7, now=NOW, **QUIET)
    assert_lifecycle(urls, m)


def test_simulate_writes_nothing_after_now(copy):
    urls, m = copy
    summary = simulate(urls, days=2, seed=7, now=NOW, **QUIET)
    assert summary["days"] == ["2026-02-01", "2026-02-02"]
    future_rows = set(m["dirty"]["future_timestamp"]["ids"])
    for db in PORTALS:
        for table, column in timestamp_columns(urls[db]):
            if table not in TABLES[db] or (db, table, column) in FUTURE_BY_NATURE:
                continue
            later = rows(urls[db], sql.SQL("SELECT {pk}::text FROM {t} WHERE {c} > %s").format(
                pk=sql.Identifier(rows(urls[db], "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                                                 "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
                                                 "WHERE i.indrelid = %s::regclass AND i.indisprimary",
                                       (table,))[0][0]),
                t=sql.Identifier(table), c=sql.Identifier(column)), (NOW,))
            allowed = future_rows if (table, column) == ("service_applications", "decided_at") else set()
            assert {r[0] for r in later} <= allowed, f"{db}.{table}.{column} after now: {later[:3]}"
    # Today is lived up to now, and only up to now: one health check per component and hour so far.
    components = rows(urls["monitor"], "SELECT count(*) FROM system_components")[0][0]
    today = NOW.replace(hour=0)
    assert rows(urls["monitor"], "SELECT count(*) FROM health_checks WHERE checked_at >= %s",
                (today,))[0][0] == components * NOW.hour
    assert rows(urls["citizen"], "SELECT count(*) FROM service_applications WHERE submitted_at >= %s",
                (today,))[0][0] > 0
    assert rows(urls["citizen"], "SELECT count(*) FROM service_applications WHERE decided_at >= %s",
                (today,))[0][0] > 0


def test_simulate_refuses_days_in_the_future(copy):
    urls, _ = copy
    before = checksums(urls)
    with pytest.raises(SyntheticDataError, match=r"after today \(2026-02-02.*at most 2 day\(s\)"):
        simulate(urls, days=3, now=NOW, **QUIET)
    with pytest.raises(SyntheticDataError, match="timezone-aware"):
        simulate(urls, days=1, now=NOW.replace(tzinfo=None), **QUIET)
    assert checksums(urls) == before, "a refused simulate wrote something"
    # Once today has been lived up to now, the next day can only come tomorrow.
    simulate(urls, days=2, now=NOW, **QUIET)
    with pytest.raises(SyntheticDataError, match="nothing can be simulated before tomorrow"):
        simulate(urls, days=1, now=NOW + timedelta(hours=3), **QUIET)
    simulate(urls, days=1, now=NOW + timedelta(days=1), **QUIET)


def test_simulate_changes_older_days_and_stays_clean(copy):
    urls, m = copy
    before = dict(rows(urls["citizen"], "SELECT application_id::text, status || coalesce(decided_at::text, '') "
                                        "FROM service_applications"))
    summary = simulate(urls, days=2, seed=7, now=NOW, **QUIET)
    after = rows(urls["citizen"], "SELECT application_id::text, status || coalesce(decided_at::text, ''), "
                                  "(submitted_at AT TIME ZONE 'Asia/Kolkata')::date FROM service_applications")
    changed_old = [d for app, s, d in after if app in before and before[app] != s]
    assert changed_old and min(changed_old) < LAST_SEEDED, "no earlier application was moved on"
    assert len(after) > len(before), "no new applications"
    assert summary["changed_days"] == sorted(summary["changed_days"])
    assert min(summary["changed_days"]) < LAST_SEEDED.isoformat()
    assert summary["inserted"]["citizen.service_applications"] > 0
    assert summary["updated"]["citizen.service_applications"] > 0
    # Decisions on old applications happen on the simulated days.
    decided = rows(urls["citizen"], "SELECT (decided_at AT TIME ZONE 'Asia/Kolkata')::date, count(*) "
                                    "FROM service_applications WHERE decided_at > %s GROUP BY 1 ORDER BY 1",
                   (datetime.combine(LAST_SEEDED + timedelta(days=1), datetime.min.time(), IST),))
    assert {d for d, _ in decided if d.year < 2030} <= {date(2026, 2, 1), date(2026, 2, 2)}
    # simulate injects nothing dirty: every rule still finds exactly the seeded rows.
    found = dirty_now(urls)
    for kind, rule_ids in found.items():
        if kind != "scheme_unknown_department":
            assert rule_ids == set(m["dirty"][kind]["ids"]), kind
