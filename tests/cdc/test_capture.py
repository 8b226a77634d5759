"""Change data capture on a real server with logical decoding: setup, apply, crashes, deletes."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import dagster as dg
import psycopg
import pytest

from smart_warehouse_assets.cdc import consumer, publications
from smart_warehouse_assets.dimensions.assets import dimension_assets
from smart_warehouse_assets.staging.assets import staging_assets
from tests.cdc.conftest import CDC_LAST, SIMULATED_DAY, day_key
from tests.conftest import TEST_START, cli_env, kill_load_while_blocked, load_warehouse
from tests.warehouse.helpers import contents, rows, scalar

PERSONAL = {"full_name", "email", "phone", "id_number_hash", "date_of_birth", "address_line", "pincode",
            "remarks", "features"}
SHARED = ("applications_submitted", "applications_approved", "applications_rejected", "applications_pending",
          "applications_withdrawn", "amount_requested", "amount_approved")


def _slot_checks(urls) -> dict[str, tuple[bool, dg.AssetCheckSeverity | None]]:
    """The cdc_slot_checks job, run in process: check name -> (passed, severity if failed)."""
    from smart_warehouse_assets.definitions import build_definitions

    with dg.DagsterInstance.ephemeral() as instance:
        result = build_definitions(urls).resolve_job_def("cdc_slot_checks").execute_in_process(instance=instance)
    return {e.check_name: (e.passed, None if e.passed else e.severity) for e in result.get_asset_check_evaluations()}


def _setup(urls):
    for portal in publications.PORTALS:
        publications.setup(urls[portal], portal)


def _drain(urls, **kw) -> list[consumer.PassResult]:
    """Passes over every portal until none comes back full."""
    out = []
    while True:
        results = [consumer.consume(p, urls[p], urls["warehouse"], **kw) for p in publications.PORTALS]
        out += results
        if not any(r.full for r in results):
            return out


def _simulate_day(urls):
    from smart_warehouse_assets.synthetic import simulate

    portals = {k: v for k, v in urls.items() if k != "warehouse"}
    simulate(portals, days=1, log=lambda *_: None,
             now=datetime.combine(SIMULATED_DAY + timedelta(days=1), datetime.min.time(), timezone.utc))


def _dimensions(urls, last):
    """The dimension chain (the refresh sensor keeps it current every few minutes)."""
    keys = [a.key for a in dimension_assets] + [a.key for a in staging_assets
                                                 if a.key.path[-1] in ("citizens", "schemes", "departments")]
    load_warehouse(urls, TEST_START, last, selection=dg.AssetSelection.assets(*keys))


def test_setup_is_idempotent_publishes_no_personal_column_and_drops(cdc_world, tmp_path):
    urls = cdc_world
    _setup(urls)
    first = {p: publications.status(urls[p]) for p in publications.PORTALS}
    _setup(urls)  # again: same slot kept, publication updated in place
    for portal in publications.PORTALS:
        st = publications.status(urls[portal])
        assert st.publication and st.exists and st.wal_status == "reserved"
        assert st.confirmed_lsn == first[portal].confirmed_lsn
        published = {t: set(cols) for t, cols in rows(
            urls[portal], "SELECT tablename, attnames FROM pg_publication_tables WHERE pubname = %s",
            (publications.PUBLICATION,))}
        assert published == {t: set(c) for t, c in publications.published(portal).items()}
        assert all(not (cols & PERSONAL) for cols in published.values()), published
    assert "birth_year" not in publications.published("citizen")["citizens"]
    # The consumer needs only the role `db up --roles` creates: REPLICATION, no table privilege.
    from smart_warehouse_assets import roles

    assert "roles/cdc.sql" in roles.apply(urls["citizen"], "citizen")
    as_consumer = urls["citizen"].replace("postgres@", "smart_cdc_reader@")
    assert scalar(as_consumer, "SELECT has_table_privilege('public.citizens', 'SELECT')") is False
    result = consumer.consume("citizen", as_consumer, urls["warehouse"])
    assert result.lsn is not None and result.transactions == 0
    shown = subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", "cdc", "status"],
                           env=cli_env(urls, tmp_path), capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    lines = dict(line.split(maxsplit=1) for line in shown.stdout.strip().splitlines())
    assert f"warehouse applied to {result.lsn}" in lines[urls["citizen"].rsplit("/", 1)[1]]
    assert "wal_status reserved" in lines[urls["dept"].rsplit("/", 1)[1]]
    for portal in publications.PORTALS:
        publications.drop(urls[portal])
        st = publications.status(urls[portal])
        assert not st.exists and not st.publication


def test_setup_refuses_a_server_without_logical_decoding(database_urls, tmp_path):
    done = subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", "cdc", "setup"],
                          env=cli_env(database_urls, tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert re.search(r"wal_level is 'replica'.*wal_level = logical.*must be restarted", line), line
    assert scalar(database_urls["citizen"], "SELECT count(*) FROM pg_publication") == 0


def test_live_figures_survive_crashes_and_equal_the_nightly_ones(cdc_world, tmp_path):
    urls = cdc_world
    _setup(urls)
    _simulate_day(urls)
    wh = urls["warehouse"]
    # A citizen registers and applies the same day: not in dim_citizen until its refresh.
    noon = datetime.combine(SIMULATED_DAY, datetime.min.time(), timezone.utc) + timedelta(hours=6)
    with psycopg.connect(urls["citizen"]) as conn:
        citizen = conn.execute("INSERT INTO citizens (full_name, gender, district, city, state, created_at, updated_at) "
                               "VALUES ('New Applicant', 'female', 'Pune', 'Pune', 'Maharashtra', %s, %s) "
                               "RETURNING citizen_id", (noon, noon)).fetchone()[0]
        conn.execute("INSERT INTO service_applications (application_number, citizen_id, scheme_id, status, channel, "
                     "submitted_at, amount_requested, created_at, updated_at) "
                     "SELECT 'SW-NEW-1', %s, scheme_id, 'submitted', 'web', %s, amount_requested, %s, %s "
                     "FROM service_applications WHERE submitted_at IS NOT NULL ORDER BY application_id LIMIT 1",
                     (citizen, noon + timedelta(minutes=30), noon + timedelta(minutes=20), noon + timedelta(minutes=30)))

    # Killed mid-batch: the apply waits on the application staging lock, the process dies.
    kill_load_while_blocked(
        urls, tmp_path, ["cdc", "consume"],
        hold="SELECT pg_advisory_xact_lock(hashtextextended('staging/service_applications', 0))",
        blocked_on="%pg_advisory_xact_lock%", what="the consumer to wait on the staging lock")
    assert scalar(wh, "SELECT count(*) FROM agg_live_applications") == 0
    assert scalar(wh, "SELECT count(*) FROM etl_cdc_progress WHERE changes_applied > 0") == 0

    # Died after the warehouse commit, before advancing the slot: the replay must skip it.
    def crash(result):
        raise RuntimeError("killed before advancing")

    with pytest.raises(RuntimeError):
        consumer.consume("citizen", urls["citizen"], wh, before_advance=crash)
    applied = scalar(wh, "SELECT changes_applied FROM etl_cdc_progress WHERE source_database = %s",
                     (urls["citizen"].rsplit("/", 1)[1],))
    assert applied > 0
    # The sensor's next tick: the replay is skipped, the rest applied, a materialization reported.
    from smart_warehouse_assets.cdc.live import cdc_live_metrics
    from tests.operations.helpers import evaluate_sensor

    with dg.DagsterInstance.ephemeral() as instance:
        tick = evaluate_sensor(cdc_live_metrics, urls, instance)
    (event,) = tick.asset_events
    assert event.asset_key == dg.AssetKey("agg_live_applications")
    assert event.metadata[f"lsn_{urls['citizen'].rsplit('/', 1)[1]}"].value == \
        publications.status(urls["citizen"]).confirmed_lsn
    assert event.metadata["changes_applied"].value > 0
    results = _drain(urls)
    assert all(r.transactions == 0 for r in results)
    assert scalar(wh, "SELECT changes_applied FROM etl_cdc_progress WHERE source_database = %s",
                  (urls["citizen"].rsplit("/", 1)[1],)) == applied
    slot = publications.status(urls["citizen"])
    assert slot.confirmed_lsn is not None and slot.lag_bytes is not None
    unknown = ("SELECT count(*) FROM fact_service_applications WHERE submitted_date_key = %s "
               "AND citizen_key = -1")
    assert scalar(wh, unknown, (day_key(SIMULATED_DAY),)) > 0

    # The dimension refresh loads the new citizen; the day's next change (a review of another
    # application) makes the consumer find them for every live row of the day.
    _dimensions(urls, SIMULATED_DAY)
    with psycopg.connect(urls["citizen"]) as conn:
        conn.execute("UPDATE service_applications SET status = 'under_review', updated_at = clock_timestamp() "
                     "WHERE application_id = (SELECT application_id FROM service_applications "
                     "WHERE status = 'submitted' AND submitted_at >= %s ORDER BY application_id LIMIT 1)",
                     (datetime.combine(SIMULATED_DAY, datetime.min.time(), timezone.utc),))
    _drain(urls)
    assert scalar(wh, unknown, (day_key(SIMULATED_DAY),)) == 0

    live = rows(wh, f"SELECT date_key, scheme_key, department_key, district, {', '.join(SHARED)} "
                    "FROM agg_live_applications WHERE date_key = %s ORDER BY 1, 2, 3, 4", (day_key(SIMULATED_DAY),))
    assert live and sum(r[4] for r in live) > 0
    # Payments and actions reach the warehouse by the watermark path, not live: amount_disbursed
    # (the fact's last column, the aggregate's last but one) and the aggregate's
    # step_sla_breaches (its last) catch up with the next refresh; every other column is final.
    facts_live = [r[:-1] for r in contents(wh, "fact_service_applications")]
    aggregate_live = [r[:-2] for r in contents(wh, "agg_daily_applications")]

    # The nightly run: every day reloaded from the portals.
    load_warehouse(urls, TEST_START, SIMULATED_DAY)
    final = rows(wh, f"SELECT date_key, scheme_key, department_key, district, {', '.join(SHARED)} "
                     "FROM agg_daily_applications WHERE date_key = %s ORDER BY 1, 2, 3, 4", (day_key(SIMULATED_DAY),))
    assert live == final
    assert facts_live == [r[:-1] for r in contents(wh, "fact_service_applications")]
    # Closed days the changes touched were kept equal to a GROUP BY of the fact as they went.
    assert [r for r in aggregate_live if r[0] <= day_key(CDC_LAST)] == \
        [r[:-2] for r in contents(wh, "agg_daily_applications") if r[0] <= day_key(CDC_LAST)]


def test_hard_deletes_and_silent_updates_reach_the_warehouse_as_a_full_reload_would(cdc_world):
    urls = cdc_world
    _setup(urls)
    wh = urls["warehouse"]
    # Two applications still open. The deleted one goes with its actions and predictions, as a
    # portal's bulk purge would take them: a dependant left behind would change too in a full
    # reload (its look-up fails), which change capture leaves to that reload.
    deleted_app, silent_app = [r[0] for r in rows(
        wh, "SELECT application_id FROM fact_service_applications WHERE status IN ('submitted', 'under_review') "
            "ORDER BY application_id LIMIT 2")]
    # The latest action of another application: no later action measures its minutes from it.
    # It breached its step SLA, so its application's submission day counted it.
    deleted_action = scalar(wh, "SELECT action_id FROM fact_application_processing p WHERE NOT EXISTS ("
                                "SELECT FROM fact_application_processing q WHERE q.application_id = p.application_id "
                                "AND q.step_number > p.step_number) AND p.application_id <> ALL(%s) "
                                "AND NOT p.step_sla_met ORDER BY action_id LIMIT 1", ([deleted_app, silent_app],))
    # A write past the triggers (as a bulk fix would be): no updated_at moves, a row simply vanishes.
    with psycopg.connect(urls["citizen"]) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM service_applications WHERE application_id = %s", (deleted_app,))
        conn.execute("UPDATE service_applications SET status = 'approved', decided_at = submitted_at + interval '2 days', "
                     "amount_approved = amount_requested WHERE application_id = %s", (silent_app,))
    with psycopg.connect(urls["dept"]) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM processing_actions WHERE action_id = %s OR application_id = %s",
                     (deleted_action, deleted_app))
    with psycopg.connect(urls["aiml"]) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM predictions WHERE application_id = %s", (deleted_app,))

    _drain(urls)
    assert scalar(wh, "SELECT count(*) FROM fact_service_applications WHERE application_id = %s", (deleted_app,)) == 0
    assert scalar(wh, "SELECT status FROM fact_service_applications WHERE application_id = %s", (silent_app,)) == "approved"
    assert scalar(wh, "SELECT count(*) FROM fact_application_processing WHERE action_id = %s", (deleted_action,)) == 0
    captured = {t: contents(wh, t) for t in ("fact_service_applications", "agg_daily_applications",
                                             "fact_application_processing")}
    captured_staging = contents(wh, "service_applications", "staging")

    load_warehouse(urls, TEST_START, CDC_LAST)  # the weekly full reload
    for table, before in captured.items():
        assert before == contents(wh, table), table
    assert [r[:-1] for r in captured_staging] == [r[:-1] for r in contents(wh, "service_applications", "staging")]

    # A TRUNCATE cannot be applied as row changes: the consumer stops, saying what to do,
    # and keeps the slot where it was.
    before = publications.status(urls["aiml"]).confirmed_lsn
    with psycopg.connect(urls["aiml"]) as conn:
        conn.execute("TRUNCATE predictions")
    with pytest.raises(RuntimeError, match="TRUNCATE of predictions.*reload the warehouse in full"):
        consumer.consume("aiml", urls["aiml"], wh)
    assert publications.status(urls["aiml"]).confirmed_lsn == before


def test_a_lost_slot_is_recreated_and_the_interval_re_read_with_an_incident(cdc_world, cdc_server):
    urls = cdc_world
    _setup(urls)
    _drain(urls)
    wh = urls["warehouse"]
    decided = scalar(wh, "SELECT application_id FROM fact_service_applications WHERE status = 'submitted' "
                         "ORDER BY application_id LIMIT 1")
    with psycopg.connect(urls["citizen"]) as conn:
        conn.execute("UPDATE service_applications SET status = 'under_review', updated_at = clock_timestamp() "
                     "WHERE application_id = %s", (decided,))
    assert _slot_checks(urls)["replication_slot_citizen"] == (True, None)
    # The consumer stays away while the portal writes WAL: first most of what the slot may
    # keep (a WARN), then more than that (the slot is lost: an ERROR, and the consumer stops).
    with psycopg.connect(cdc_server, autocommit=True) as admin:
        admin.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '64MB'")
        admin.execute("SELECT pg_reload_conf()")
        try:
            with psycopg.connect(urls["aiml"], autocommit=True) as conn:
                conn.execute("CREATE TABLE filler (x integer)")
                for _ in range(4):  # each switch closes a (up to) 16 MB segment
                    conn.execute("INSERT INTO filler VALUES (1)")
                    conn.execute("SELECT pg_switch_wal()")
            assert _slot_checks(urls)["replication_slot_citizen"] == (False, dg.AssetCheckSeverity.WARN)
            admin.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
            admin.execute("SELECT pg_reload_conf()")
            with psycopg.connect(urls["aiml"], autocommit=True) as conn:
                conn.execute("INSERT INTO filler VALUES (1)")
                conn.execute("SELECT pg_switch_wal()")
                conn.execute("CHECKPOINT")
            assert publications.status(urls["citizen"]).wal_status == "lost"
            assert _slot_checks(urls)["replication_slot_citizen"] == (False, dg.AssetCheckSeverity.ERROR)
            with pytest.raises(consumer.SlotLost, match="can no longer be read"):
                consumer.consume("citizen", urls["citizen"], wh)
        finally:
            admin.execute("ALTER SYSTEM RESET max_slot_wal_keep_size")
            admin.execute("SELECT pg_reload_conf()")

    # The live asset's next materialization recovers by itself: slot recreated, the interval
    # re-read by updated_at, an incident in smart_monitor, and the pass goes on.
    from smart_warehouse_assets.cdc.live import agg_live_applications
    from smart_warehouse_assets.definitions import database_resources

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([agg_live_applications], resources=database_resources(urls), instance=instance)
        (materialization,) = result.get_asset_materialization_events()
    meta = materialization.materialization.metadata
    assert meta[f"lsn_{urls['citizen'].rsplit('/', 1)[1]}"].value == publications.status(urls["citizen"]).confirmed_lsn
    assert publications.status(urls["citizen"]).wal_status == "reserved"
    assert scalar(wh, "SELECT status FROM fact_service_applications WHERE application_id = %s", (decided,)) == "under_review"
    incident = rows(urls["monitor"], "SELECT details FROM alert_incidents WHERE title LIKE 'Change capture slot%%' "
                                     "AND details->>'database' = %s", (urls["citizen"].rsplit("/", 1)[1],))
    assert len(incident) == 1 and incident[0][0]["applications_reread"] >= 1
    assert _slot_checks(urls)["replication_slot_citizen"][0] is True
