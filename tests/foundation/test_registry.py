"""The source registry is wired everywhere: every entry reaches each place it must.

Adding a portal table is one registry entry plus its staging DDL; this test is what fails
when the entry misses a place (a source asset, a staging asset and its checks, the change
plans, the reconciliation, the benchmark's floor) or names a column the portal lacks.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import dagster as dg
import psycopg
import pytest

from benchmarks.worker import FLOOR_SOURCES
from smart_warehouse_assets.definitions import build_definitions
from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.quality import suite
from smart_warehouse_assets.sources.portal_tables import GROUPS
from smart_warehouse_assets.sources.registry import BY_NAME, REGISTRY, STAGED, lookup_entry

IDS = [e.name for e in REGISTRY]


@pytest.fixture(scope="module")
def graph():
    defs = build_definitions({k: f"postgresql://127.0.0.1:5432/{k}" for k in
                              ("citizen", "dept", "aiml", "monitor", "warehouse")})
    return defs.resolve_asset_graph()


def _upstream(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen, todo = set(), [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


@pytest.mark.parametrize("entry", REGISTRY, ids=IDS)
def test_each_entry_is_a_source_asset_of_its_portal(graph, entry):
    node = graph.get(entry.key)
    assert not node.is_materializable, "portal tables are observed, never materialized"
    assert node.group_name == GROUPS[entry.portal]


@pytest.mark.parametrize("entry", REGISTRY, ids=IDS)
def test_each_entry_feeds_its_assets(graph, entry):
    if entry.staging is None:  # read only inside another entry's extraction
        assert any(entry.name == lookup_entry(ref).name for e in REGISTRY for ref in e.joined), entry.name
        return
    staging = graph.get(entry.staging_key)
    assert {entry.key, *(lookup_entry(ref).key for ref in entry.joined)} <= set(staging.parent_keys)
    assert entry.assets[0] == entry.staging_key.to_user_string()
    for asset in entry.assets:
        assert entry.key in _upstream(graph, dg.AssetKey.from_user_string(asset)), asset
        assert graph.get(dg.AssetKey.from_user_string(asset)).is_partitioned == entry.partitioned, asset
    assert [c.name for c in suite.STAGING[entry.staging.staging_table]] == ["quarantine_rate"]
    assert "WHERE {feeds} AND {rows}" in entry.staging.select, "the extraction must take the entry's rows"
    # Every other portal table the extraction reads is declared, so lineage shows it.
    read = {f"{entry.portal}.{t}" for t in re.findall(r"public\.(\w+)", entry.staging.select)}
    read |= {f"{lk.source_key}.{lk.source_table}" for lk in entry.staging.lookups}
    assert read - {f"{entry.portal}.{entry.relation}", f"{entry.portal}.{entry.table}"} == set(entry.joined)


@pytest.mark.parametrize("entry", [e for e in REGISTRY if e.assets], ids=[e.name for e in REGISTRY if e.assets])
def test_each_fed_entry_is_watched_for_changes(entry):
    assert entry in changes.SOURCES
    listed = changes.PARTITIONED_ASSETS if entry.partitioned else changes.UNPARTITIONED_ASSETS
    assert set(entry.assets) <= set(listed)


@pytest.mark.parametrize("entry", [e for e in STAGED if e.partitioned], ids=[e.name for e in STAGED if e.partitioned])
def test_each_event_source_reconciles_with_its_fact(entry):
    assert entry.reconcile is not None and entry.reconcile.fact in entry.assets
    (check,) = [c for c in suite.FACTS[entry.reconcile.fact] if c.name == "reconciles_with_source"]
    assert entry.name in check.description and check.needs_portals == (entry.portal,)


def test_the_registry_is_every_warehouse_source(graph):
    """No asset reads a portal table that the registry does not list, and each once."""
    sources = {k for k in graph.get_all_asset_keys() if not graph.get(k).is_materializable
               and graph.get(k).group_name in GROUPS.values()}
    assert sources == {e.key for e in REGISTRY}
    assert len(BY_NAME) == len(REGISTRY)
    fed = {a for e in REGISTRY for a in e.assets}
    built = {k.to_user_string() for k in graph.materializable_asset_keys}
    # agg_live_applications is fed from the portals' WAL (cdc/), its columns by the registry's
    # publication lists; dim_date and dim_holiday are a calendar.
    assert built == fed | {"dim_date", "dim_holiday", "agg_live_applications"}, \
        "a warehouse asset no registry entry feeds, or the reverse"


def test_the_floor_moves_what_each_extracted_entry_reads():
    assert set(FLOOR_SOURCES) == {e.table for e in STAGED}


def test_each_entry_reads_real_columns_and_its_sql_runs(database_urls):
    """Against the migrated portals: the columns exist, the extraction and the floor run."""
    always = {"start": datetime(2000, 1, 1, tzinfo=timezone.utc), "end": datetime(2100, 1, 1, tzinfo=timezone.utc)}
    for entry in REGISTRY:
        with psycopg.connect(database_urls[entry.portal]) as conn:
            have = {c for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s", (entry.relation,))}
            assert set(entry.columns) <= have, f"{entry.name}: {set(entry.columns) - have}"
            for column in (entry.event, "updated_at"):
                assert column is None or column in {c for (c,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = %s", (entry.table,))}, (entry.name, column)
            conn.execute(entry.floor()).fetchall()
            if entry.staging:
                conn.execute(entry.extraction(), always if entry.partitioned else None).fetchall()
                with conn.transaction():
                    conn.execute("CREATE TEMP TABLE changed_keys (id uuid) ON COMMIT DROP")
                    conn.execute(entry.extraction(changed=True)).fetchall()


def test_each_entry_reads_its_table_key(database_urls):
    """The change-capture publication lists each entry's columns; a column list that misses the
    replica identity (the primary key) makes the portal refuse every UPDATE of that table."""
    for entry in REGISTRY:
        with psycopg.connect(database_urls[entry.portal]) as conn:
            key = {c for (c,) in conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = ('public.' || %s)::regclass AND i.indisprimary",
                (entry.table,))}
            assert key and key <= set(entry.columns), f"{entry.name}: key {key} not among {entry.columns}"


# The previous action by its definition: the latest live action of the application strictly
# before this one in (action_at, step_number) order, on any day.
_PREVIOUS_BY_DEFINITION = """
SELECT t.action_id, (SELECT max(p.action_at) FROM processing_actions p
                     WHERE p.application_id = t.application_id AND p.status <> 'deleted'
                       AND (p.action_at, p.step_number) < (t.action_at, t.step_number))
FROM processing_actions t WHERE t.status <> 'deleted' AND ({rows})
"""


def test_previous_action_of_the_extraction_is_the_one_defined(database_urls):
    """The extraction's window over each application's actions gives every extracted action
    the previous action of the definition: deleted actions skipped, a step at the same instant
    ordered by its number, a tie (same instant, same step) never its own previous, earlier days
    and later actions of the application weighed right, in a run's days and for changed keys."""
    entry = BY_NAME["smart_dept.processing_actions"]
    day = datetime(2026, 3, 10, tzinfo=timezone.utc)
    h = [day.replace(hour=n) for n in range(24)]
    before = datetime(2026, 3, 2, tzinfo=timezone.utc)
    a, b, c = ("00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b",
               "00000000-0000-0000-0000-00000000000c")
    actions = [  # application, action_at, step, status
        (a, before, 1, "active"),          # an earlier day: the first in-range action's previous
        (a, h[3], 2, "active"),
        (a, h[4], 3, "active"),            # two at the same instant and step: neither is the
        (a, h[4], 3, "active"),            # other's previous (both: h[3])
        (a, h[5], 4, "deleted"),           # deleted: never a previous, not extracted
        (a, h[6], 5, "active"),            # previous h[6]: the step below at the same instant
        (a, h[6], 4, "active"),            # previous h[4], past the deleted one
        (a, h[23].replace(day=11), 6, "active"),  # after the range: not extracted
        (b, h[1], 1, "deleted"),
        (b, h[2], 2, "active"),            # only a deleted action before it: none
        (c, before, 1, "active"),          # an application with no action in the range
    ]
    with psycopg.connect(database_urls["dept"], autocommit=True) as conn:
        dept = conn.execute("INSERT INTO departments (department_code, department_name, department_type) "
                            "VALUES ('T1', 'Test', 'department') RETURNING department_id").fetchone()[0]
        ids = [conn.execute("INSERT INTO processing_actions (application_id, department_id, action_type, action_at, "
                            "step_number, status) VALUES (%s, %s, 'forwarded', %s, %s, %s) RETURNING action_id",
                            (app, dept, at, step, status)).fetchone()[0] for app, at, step, status in actions]
        in_range = "t.action_at >= %(start)s AND t.action_at < %(end)s"
        span = {"start": day, "end": day.replace(day=11)}
        expected = dict(conn.execute(_PREVIOUS_BY_DEFINITION.format(rows=in_range), span).fetchall())
        got = {r[0]: r[6] for r in conn.execute(entry.extraction(), span).fetchall()}
        assert got == expected and len(got) == 6
        assert got[ids[1]] == before and got[ids[2]] == got[ids[3]] == h[3] and got[ids[6]] == h[4]
        assert got[ids[5]] == h[6] and got[ids[9]] is None

        with conn.transaction():
            conn.execute("CREATE TEMP TABLE changed_keys (id uuid PRIMARY KEY) ON COMMIT DROP")
            changed = [ids[2], ids[4], ids[7], ids[10]]  # the deleted one is not landed
            conn.execute("INSERT INTO changed_keys SELECT unnest(%s::uuid[])", (changed,))
            expected = dict(conn.execute(_PREVIOUS_BY_DEFINITION.format(
                rows="t.action_id IN (SELECT id FROM changed_keys)")).fetchall())
            got = {r[0]: r[6] for r in conn.execute(entry.extraction(changed=True)).fetchall()}
        assert got == expected and set(got) == {ids[2], ids[7], ids[10]}
        assert got[ids[7]] == h[6] and got[ids[10]] is None
