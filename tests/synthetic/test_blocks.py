"""A world made of many blocks holds together across them.

The seeded test worlds fit in one block of each kind, so here the generator runs with
small blocks (no database: the blocks are collected as they are handed on) and the rules
that span blocks are checked on what it made: keys unique across blocks, every reference
inside the world except the planted orphans, the hourly log counts cut at a block's end
added up once, running counts equal to the rows they count, exactly counted dirty rows,
and the same bytes from the same seed."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from smart_warehouse_assets.synthetic.core import PRIMARY_KEYS, uuid_strings
from smart_warehouse_assets.synthetic.dirty import DIRTY_TABLE, bad_count, dirty_manifest
from tests.synthetic.helpers import USE_CASES, SmallBlocks

SCALE, DAYS, BAD_RATE = 0.1, 30, 0.05  # many dirty rows of each kind, so that kinds could collide


class Tiny(SmallBlocks):
    """Blocks small enough for 2,000 citizens and 30 monitored days to span several."""
    CITIZENS_PER_BLOCK = 512
    MONITORED_ROWS_PER_BLOCK = 256


def build(seed: int = 7) -> tuple[dict[str, pl.DataFrame], dict, Tiny]:
    blocks: dict[str, list[pl.DataFrame]] = {}
    builder = Tiny(seed=seed, scale=SCALE, start=date(2026, 1, 12), days=DAYS, bad_rate=BAD_RATE)
    builder.world.sink = lambda db, table, df: blocks.setdefault(f"{db}.{table}", []).append(df)
    world = builder.build(USE_CASES)
    tables = {name: pl.concat(dfs, how="diagonal_relaxed") for name, dfs in blocks.items()}
    return tables, dirty_manifest(world), builder


@pytest.fixture(scope="module")
def made():
    return build()


def test_the_world_spans_many_blocks(made):
    _, _, builder = made
    assert builder.n_app_blocks >= 4
    assert builder.n_monitor_blocks >= 4
    assert len(builder.cit_ids) > 3 * builder.CITIZENS_PER_BLOCK


def test_keys_are_unique_across_blocks(made):
    tables, _, _ = made
    for name, df in tables.items():
        pk = PRIMARY_KEYS[name.split(".")[1]]
        assert df[pk].n_unique() == df.height, name
    numbers = tables["citizen.service_applications"]["application_number"].str.slice(11).cast(pl.Int64)
    assert sorted(numbers.to_list()) == list(range(1, numbers.len() + 1))


def test_references_hold_except_the_planted_orphans(made):
    tables, dirty, _ = made
    apps = set(uuid_strings(tables["citizen.service_applications"]["application_id"]))
    citizens = set(uuid_strings(tables["citizen.citizens"]["citizen_id"]))
    assert set(uuid_strings(tables["citizen.service_applications"]["citizen_id"])) <= citizens
    for name, orphans in (("dept.processing_actions", "orphan_action"), ("aiml.predictions", "orphan_prediction")):
        df = tables[name]
        pk = PRIMARY_KEYS[name.split(".")[1]]
        outside = {key for key, app in zip(uuid_strings(df[pk]), uuid_strings(df["application_id"]))
                   if app is not None and app not in apps}
        assert outside == set(dirty[orphans]["ids"]), name
    for name in ("citizen.application_status_history", "citizen.documents", "dept.application_assignments",
                 "dept.document_verifications", "dept.dept_notifications", "citizen.payments"):
        assert set(uuid_strings(tables[name]["application_id"])) <= apps, name
    docs = set(uuid_strings(tables["citizen.documents"]["document_id"]))
    assert set(uuid_strings(tables["dept.document_verifications"]["document_id"])) <= docs
    # Each application's actions are numbered 1..n in time order.
    steps = (tables["dept.processing_actions"].sort("application_id", "action_at", "step_number")
             .with_columns(expected=pl.int_range(1, pl.len() + 1).over("application_id")))
    assert (steps["step_number"] == steps["expected"]).all()


def test_counts_spanning_blocks_add_up(made):
    tables, _, _ = made
    jobs, preds = tables["aiml.batch_prediction_jobs"], tables["aiml.predictions"]
    dropout = jobs.filter(pl.col("use_case_code") == "DROPOUT_PREDICTION")
    assert dropout["rows_scored"].sum() == preds["batch_prediction_job_id"].is_not_null().sum()
    received = tables["dept.dashboard_metrics"].filter(pl.col("metric_name") == "applications_received")
    submitted = tables["citizen.service_applications"]["submitted_at"].is_not_null().sum()
    assert 0.9 * submitted < received["metric_value"].sum() <= submitted


def test_an_hour_of_logs_cut_by_a_block_is_counted_once():
    """A block of monitored days ends at midnight IST, in the middle of a UTC hour; enough
    logs (scale 3) that the same component and level log on both sides of most cuts."""
    blocks: dict[str, list[pl.DataFrame]] = {}
    builder = Tiny(seed=7, scale=3, start=date(2026, 1, 12), days=4, bad_rate=0.002)
    builder.world.sink = lambda db, table, df: blocks.setdefault(table, []).append(df)
    builder.system_components()
    builder.alert_rules()
    builder.plan_monitoring()
    builder.finish_monitoring()
    assert builder.n_monitor_blocks == 4
    logs, agg = pl.concat(blocks["system_logs"]), pl.concat(blocks["log_aggregations"])
    expected = (logs.group_by("component_id", window_start=pl.col("logged_at").dt.truncate("1h"), log_level="log_level")
                .agg(log_count=pl.len().cast(pl.Int32)))
    key = ["component_id", "window_start", "log_level"]
    assert agg.select(*key, "log_count").sort(key).equals(expected.select(*key, "log_count").sort(key))


def test_dirty_rows_are_exactly_counted_across_blocks(made):
    tables, dirty, _ = made
    for kind, planted in dirty.items():
        df = tables[DIRTY_TABLE[kind]]
        pk = PRIMARY_KEYS[DIRTY_TABLE[kind].split(".")[1]]
        assert set(planted["ids"]) <= set(uuid_strings(df[pk])), kind
        if not kind.startswith("orphan"):
            assert len(planted["ids"]) == bad_count(BAD_RATE, df.height), kind
    listed = [i for kind in ("decision_before_submission", "future_timestamp", "approved_above_requested",
                             "negative_amount") for i in dirty[kind]["ids"]]
    assert len(listed) == len(set(listed))


def test_the_same_seed_makes_the_same_blocks(made):
    tables, dirty, _ = made
    again, dirty_again, _ = build()
    assert dirty == dirty_again
    for name, df in tables.items():
        assert again[name].equals(df), name
    other, _, _ = build(seed=8)
    assert not other["citizen.citizens"].equals(tables["citizen.citizens"])
