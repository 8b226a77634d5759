"""The eligibility training set: point in time, no personal data, rebuilt byte for byte."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import dagster as dg
import polars as pl
import psycopg
import pytest

from smart_warehouse_assets import frames
from smart_warehouse_assets.ml import training_set
from smart_warehouse_assets.ml.training_set import ASSET, COLUMNS, MANIFEST, TrainingSetSettings, file_name, verify
from smart_warehouse_assets.partitions import DayRange
from smart_warehouse_assets.resources import PostgresResource
from tests.conftest import LAST_DAY, TEST_START, load_warehouse
from tests.warehouse.helpers import rows, scalar

ONLY_TRAINING = dg.AssetSelection.assets(dg.AssetKey.from_user_string(ASSET))
FEATURES = [c for c in COLUMNS if c not in ("prediction_id", "predicted_at", "prediction_date", "label")]


def _folder(urls):
    return TrainingSetSettings().folder(PostgresResource(url=urls["warehouse"]))


def _build(urls, first: date, last: date) -> None:
    assert load_warehouse(urls, first, last, selection=ONLY_TRAINING).success


def _row(folder, prediction_id: str) -> dict:
    (row,) = pl.scan_parquet(folder / "*.parquet").filter(pl.col("prediction_id") == prediction_id).collect().to_dicts()
    return row


def test_one_scan_reads_every_prediction_with_its_label_and_no_personal_data(loaded_template):
    urls, _ = loaded_template
    folder = _folder(urls)  # the loaded world's full load wrote it
    frame = pl.scan_parquet(folder / "*.parquet").collect()
    assert frame.columns == list(COLUMNS)
    wh = urls["warehouse"]
    assert frame.height == scalar(wh, "SELECT count(*) FROM fact_eligibility_scoring") > 0
    assert frame["label"].sum() == scalar(wh, "SELECT count(*) FROM fact_eligibility_scoring "
                                              "WHERE actual_outcome = 'approved'")
    assert frame["label"].is_not_null().sum() == scalar(wh, "SELECT count(actual_outcome) FROM fact_eligibility_scoring")
    assert not {"citizen_id", "application_id", "application_number", "birth_year", "city"} & set(frame.columns)
    days = verify(folder)  # every file has the manifest's checksum and row count
    assert sorted(days) == [(TEST_START + timedelta(days=i)).isoformat() for i in range((LAST_DAY - TEST_START).days + 1)]
    assert sum(d["rows"] for d in days.values()) == frame.height
    # The features are filled where the warehouse knows them: every prediction's citizen and scheme.
    assert frame["age_band"].null_count() == frame["scheme_category"].null_count() == 0
    assert (frame["prior_applications"] >= frame["prior_approvals"] + frame["prior_rejections"]).all()


def test_no_feature_uses_a_row_stamped_after_the_prediction(loaded):
    urls, _ = loaded
    wh, folder = urls["warehouse"], None
    # A scored citizen with a single version, and the prediction on their application.
    pid, day, predicted_at, citizen_key, app = rows(wh, """
        SELECT p.prediction_id::text, p.prediction_date_key, p.predicted_at, p.citizen_key, p.application_id
        FROM fact_eligibility_scoring p JOIN dim_citizen c USING (citizen_key)
        WHERE p.scheme_key <> -1 AND (SELECT count(*) FROM dim_citizen v WHERE v.citizen_id = c.citizen_id) = 1
        ORDER BY p.predicted_at DESC LIMIT 1""")[0]
    day = date(day // 10000, day // 100 % 100, day % 100)
    _build(urls, day, day)
    folder = _folder(urls)
    before = _row(folder, pid)
    later, earlier = predicted_at + timedelta(minutes=1), predicted_at - timedelta(days=1)
    copy = ("INSERT INTO fact_service_applications (application_id, application_number, citizen_key, scheme_key, "
            "department_key, submitted_date_key, decided_date_key, status, channel, amount_requested, submitted_at, "
            "decided_at, etl_batch_id) SELECT gen_random_uuid(), application_number || %s, citizen_key, scheme_key, "
            "department_key, submitted_date_key, -1, 'approved', channel, amount_requested, %s, %s, etl_batch_id "
            "FROM fact_service_applications WHERE application_id = %s")
    with psycopg.connect(wh) as conn:
        # Rows stamped after the prediction: a new version of the citizen and of the scheme, and
        # an application submitted and approved a minute later.
        conn.execute("UPDATE dim_citizen SET valid_to = %s, is_current = false WHERE citizen_key = %s",
                     (later, citizen_key))
        conn.execute("INSERT INTO dim_citizen (citizen_id, gender, birth_year, age_band, city, district, state, status, "
                     "valid_from, etl_batch_id) SELECT citizen_id, 'other', birth_year, '61+', 'Leaked', 'Leaked', "
                     "'Leaked', status, %s, etl_batch_id FROM dim_citizen WHERE citizen_key = %s", (later, citizen_key))
        scheme_key = scalar(wh, "SELECT scheme_key FROM fact_eligibility_scoring WHERE prediction_id = %s", (pid,))
        conn.execute("UPDATE dim_scheme SET valid_to = greatest(%s, valid_from + interval '1 second'), is_current = false "
                     "WHERE scheme_key = %s", (later, scheme_key))
        conn.execute("INSERT INTO dim_scheme (scheme_id, scheme_code, scheme_name, category, department_code, "
                     "benefit_amount, sla_days, status, valid_from, etl_batch_id) SELECT scheme_id, scheme_code, "
                     "scheme_name, 'leaked', department_code, 1, 1, status, valid_to, etl_batch_id FROM dim_scheme "
                     "WHERE scheme_key = %s", (scheme_key,))
        conn.execute(copy, ("-later", later, later + timedelta(minutes=1), app))
    _build(urls, day, day)
    assert _row(folder, pid) == before, "a row stamped after predicted_at changed a feature"
    # The same history a day earlier is seen: the features do read those rows.
    with psycopg.connect(wh) as conn:
        conn.execute(copy, ("-earlier", earlier, earlier + timedelta(hours=1), app))
    _build(urls, day, day)
    after = _row(folder, pid)
    assert after["prior_applications"] == before["prior_applications"] + 1
    assert after["prior_approvals"] == before["prior_approvals"] + 1
    assert after["days_since_last_application"] == 1.0
    assert {k: after[k] for k in FEATURES if not k.startswith(("prior_", "days_since"))} == \
        {k: before[k] for k in FEATURES if not k.startswith(("prior_", "days_since"))}


def test_a_day_rebuilt_gives_the_same_bytes(loaded):
    urls, _ = loaded
    day = TEST_START + timedelta(days=2)
    _build(urls, TEST_START, LAST_DAY)
    folder = _folder(urls)
    digest = lambda: hashlib.sha256((folder / file_name(day)).read_bytes()).hexdigest()  # noqa: E731
    from_range = digest()
    manifest = (folder / MANIFEST).read_text()
    _build(urls, day, day)
    assert digest() == from_range
    assert (folder / MANIFEST).read_text() == manifest
    assert verify(folder)[day.isoformat()]["sha256"] == from_range


def test_read_in_small_groups_of_days_the_set_is_the_same_bytes(loaded, monkeypatch):
    """The days are read a group at a time (memory stays flat with the history); the grouping
    must not show in the files or the manifest."""
    urls, _ = loaded
    _build(urls, TEST_START, LAST_DAY)
    folder = _folder(urls)
    whole = (folder / MANIFEST).read_text()
    per_day = max(d["rows"] for d in verify(folder).values())
    monkeypatch.setattr(frames, "GROUP_ROWS", per_day)  # about one day per group
    with psycopg.connect(urls["warehouse"]) as conn:
        groups = training_set.chunks(conn, DayRange(TEST_START, LAST_DAY))
    assert len(groups) > (LAST_DAY - TEST_START).days // 2
    assert [d for g in groups for d in g.days()] == DayRange(TEST_START, LAST_DAY).days()
    for entry in verify(folder).values():
        (folder / entry["file"]).unlink()
    _build(urls, TEST_START, LAST_DAY)
    assert (folder / MANIFEST).read_text() == whole
    verify(folder)


def _queue(conn, *keys: str) -> None:
    conn.execute("INSERT INTO staging.pending_merge (asset_key, merge_key, batch_id) "
                 "SELECT %s, k, 0 FROM unnest(%s::text[]) k", (ASSET, list(keys)))


def test_a_change_driven_plan_patches_a_members_days_and_rebuilds_whole_the_days_of_earlier_entries(loaded):
    """The queue names predictions and members; entries an earlier version queued ("YYYYMMDD",
    ">YYYYMMDD") still rebuild their whole days; a member of a table the set does not read is
    refused with its name, and the queue stays for the next run."""
    urls = loaded[0]
    wh = urls["warehouse"]
    folder = _folder(urls)
    _build(urls, TEST_START, LAST_DAY)
    run_days = DayRange(TEST_START, LAST_DAY)
    old_day, since_day = TEST_START + timedelta(days=1), LAST_DAY - timedelta(days=1)
    (scheme, member_day), = rows(wh, """
        SELECT s.scheme_id::text, to_date(min(p.prediction_date_key)::text, 'YYYYMMDD') + 2
        FROM fact_eligibility_scoring p JOIN dim_scheme s USING (scheme_key) WHERE s.scheme_id IS NOT NULL
        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""")
    key = lambda d: d.strftime("%Y%m%d")  # noqa: E731
    with psycopg.connect(wh) as conn:
        _queue(conn, key(old_day), ">" + key(since_day), f">{key(member_day)}:dim_scheme:{scheme}")
        rewrite = training_set.plan(conn, folder, run_days)
        conn.rollback()
    assert set(rewrite.whole.days()) == {old_day, since_day, LAST_DAY}
    scored = dict(rows(wh, """
        SELECT to_date(p.prediction_date_key::text, 'YYYYMMDD'), count(*) FROM fact_eligibility_scoring p
        JOIN dim_scheme s USING (scheme_key) WHERE s.scheme_id = %s AND p.prediction_date_key >= %s GROUP BY 1""",
                       (scheme, int(key(member_day)))))
    assert scored and rewrite.recomputed == {d: n for d, n in scored.items() if d not in (old_day, since_day, LAST_DAY)}
    assert set(rewrite.patched.days()) == set(rewrite.recomputed)

    with psycopg.connect(wh) as conn:
        _queue(conn, f">{key(member_day)}:dim_office:{scheme}")
        conn.commit()
        with pytest.raises(ValueError, match="dim_office"):
            training_set.plan(conn, folder, run_days)
        conn.rollback()
    assert scalar(wh, "SELECT count(*) FROM staging.pending_merge WHERE asset_key = %s", (ASSET,)) == 1
