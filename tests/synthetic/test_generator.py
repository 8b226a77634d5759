"""The synthetic portals: reproducible, consistent and dirty exactly where the manifest says."""

from __future__ import annotations

from datetime import date

import polars as pl
import psycopg
import pytest

from smart_warehouse_assets.synthetic import SyntheticDataError, seed
from smart_warehouse_assets.synthetic.dirty import bad_count
from smart_warehouse_assets.synthetic.reference import DISTRICTS
from smart_warehouse_assets.synthetic.world import World
from tests.synthetic.helpers import (
    DAYS, PORTALS, QUIET, SCALE, START, assert_lifecycle, checksums, dirty_now, ids, portals, rows,
)


@pytest.fixture(scope="module")
def world(make_database_set, migrated_template):
    urls = portals(make_database_set(template=migrated_template, label="syn"))
    manifest = seed(urls, scale=SCALE, start=START, days=DAYS, **QUIET)
    return urls, manifest


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


SCHEMA_OBJECTS = """
SELECT 'index', c.relname, i.relname, pg_get_indexdef(x.indexrelid), i.relpersistence::text
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'constraint', c.relname, k.conname, pg_get_constraintdef(k.oid), k.convalidated::text
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
ORDER BY 1, 2, 3
"""


def test_seed_leaves_the_migrated_keys_and_indexes(world, migrated_template):
    """The bulk load sets keys and indexes aside and rebuilds them: exactly as migrated, all validated."""
    urls, _ = world
    for db in PORTALS:
        assert rows(urls[db], SCHEMA_OBJECTS) == rows(migrated_template[db], SCHEMA_OBJECTS), db
        assert rows(urls[db], "SELECT count(*) FROM pg_constraint WHERE NOT convalidated")[0][0] == 0


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
    assert_lifecycle(urls, m)
    # Fewer submissions on Sundays and on 26 January than on an average weekday.
    per_day = dict(rows(urls["citizen"], "SELECT (submitted_at AT TIME ZONE 'Asia/Kolkata')::date, count(*) "
                                         "FROM service_applications WHERE submitted_at IS NOT NULL GROUP BY 1"))
    weekdays = [n for d, n in per_day.items() if d.isoweekday() <= 5 and (d.month, d.day) != (1, 26)]
    assert per_day.get(date(2026, 1, 26), 0) < sum(weekdays) / len(weekdays)


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


def test_a_failed_load_leaves_every_portal_as_it_was(make_database_set, migrated_template, monkeypatch):
    """The four databases commit only when all four loads are ready: a failure in one
    (here a duplicated key in citizen.feedback) leaves the previous world everywhere."""
    urls = portals(make_database_set(template=migrated_template, label="fail"))
    seed(urls, scale=SCALE, start=START, days=DAYS, **QUIET)
    before = checksums(urls)
    real_put = World.put

    def put(self, db, table, df):
        real_put(self, db, table, pl.concat([df, df.head(1)]) if table == "feedback" else df)

    monkeypatch.setattr(World, "put", put)
    with pytest.raises(psycopg.errors.UniqueViolation):
        seed(urls, seed=99, scale=SCALE, start=START, days=DAYS, replace=True, **QUIET)
    assert checksums(urls) == before
