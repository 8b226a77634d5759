"""A change-driven run merges the changed rows, not their days, and equals a rebuild.

On the loaded world with one simulated day (decisions on applications submitted days
ago), the portals also get the awkward changes: a corrected submission time that moves an
application to another day, a re-decision, an application that now breaks a contract rule,
a deleted prediction, a deleted action and a step landing late on an old application. The
refresh sensor's run must write only those rows (staging keeps every other row's batch),
judge the days they touched, say so on each day's event, come out equal to a rebuild from
scratch table by table, and a second run of the same window must change nothing. The
prediction facts merge the changed predictions, and the model performance aggregate (polars)
recomputes only the prediction days they queued, here and in the ML portal. The nightly run
must also carry a decision moved to another day, and a late step, to the aggregates' old days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import dagster as dg
import polars as pl
import psycopg

from smart_warehouse_assets.ml.training_set import TrainingSetSettings
from smart_warehouse_assets.operations.refresh import refresh_changed_partitions
from smart_warehouse_assets.operations.schedules import nightly_incremental
from smart_warehouse_assets.partitions import IST, DayRange
from smart_warehouse_assets.resources import PostgresResource
from tests.conftest import LAST_DAY, TEST_START, load_warehouse
from tests.operations.helpers import (
    evaluate_sensor, execute_request, land_a_late_step, partitions_of, record_full_load, resources,
    submission_days_changed_after, training_days,
)
from tests.operations.test_refresh import (  # noqa: F401 (simulated: a fixture)
    REBUILT, SIMULATED_DAY, _rebuilt_from_scratch, simulated,
)
from tests.warehouse.helpers import contents, rows, scalar

# Stamped a little before "now", so the window (which stops a minute before now) holds them.
_STAMP = "now() - interval '90 seconds'"
_NOON_OF_LAST_DAY = datetime.combine(LAST_DAY, time(12), IST)
STAGED = ("service_applications", "predictions", "processing_actions")
PERFORMANCE = "agg_model_performance"


def _ist_day(url: str, query: str, params) -> date:
    return scalar(url, f"SELECT ({query} AT TIME ZONE 'Asia/Kolkata')::date", params)  # noqa: S608 (constants)


def _awkward_changes(urls: dict[str, str]) -> dict[str, object]:
    """Edit the portals as an officer or a correction would; what was changed, for the asserts."""
    with psycopg.connect(urls["citizen"]) as citizen, psycopg.connect(urls["dept"]) as dept:
        candidates = citizen.execute(
            "SELECT application_id, (submitted_at AT TIME ZONE 'Asia/Kolkata')::date FROM service_applications "
            "WHERE status IN ('submitted', 'under_review', 'withdrawn') AND decided_at IS NULL "
            "AND submitted_at >= %s ORDER BY submitted_at, application_id LIMIT 1",
            (DayRange(TEST_START + timedelta(days=6), TEST_START + timedelta(days=6)).start,)).fetchall()
        ((moved, old),) = candidates  # its actions' minutes count from the corrected (earlier) time
        moved_to = old - timedelta(days=3)
        citizen.execute(f"UPDATE service_applications SET submitted_at = submitted_at - interval '3 days', "
                        f"updated_at = {_STAMP} WHERE application_id = %s", (moved,))
        redecided = citizen.execute(
            f"UPDATE service_applications SET status = 'rejected', amount_approved = NULL, updated_at = {_STAMP} "
            "WHERE application_id = (SELECT application_id FROM service_applications WHERE status = 'approved' "
            "AND (submitted_at AT TIME ZONE 'Asia/Kolkata')::date = %s ORDER BY application_id LIMIT 1) "
            "RETURNING application_id", (TEST_START + timedelta(days=1),)).fetchone()[0]
        broken = citizen.execute(
            f"UPDATE service_applications SET amount_requested = -5, updated_at = {_STAMP} "
            "WHERE application_id = (SELECT application_id FROM service_applications WHERE status = 'under_review' "
            "AND (submitted_at AT TIME ZONE 'Asia/Kolkata')::date = %s ORDER BY application_id LIMIT 1) "
            "RETURNING application_id", (TEST_START + timedelta(days=2),)).fetchone()[0]
        # The last live action of an application (no later action's previous action changes).
        action = dept.execute(
            f"UPDATE processing_actions SET status = 'deleted', updated_at = {_STAMP} WHERE action_id = ("
            "SELECT DISTINCT ON (application_id) action_id FROM processing_actions WHERE status <> 'deleted' "
            "AND (action_at AT TIME ZONE 'Asia/Kolkata')::date = %s "
            "ORDER BY application_id, step_number DESC, action_id LIMIT 1) RETURNING action_id",
            (TEST_START + timedelta(days=4),)).fetchone()[0]
    prediction_day = TEST_START + timedelta(days=5)
    with psycopg.connect(urls["aiml"]) as aiml:
        prediction = aiml.execute(
            f"UPDATE predictions SET status = 'deleted', updated_at = {_STAMP} WHERE prediction_id = ("
            "SELECT prediction_id FROM predictions WHERE use_case_code = 'ELIGIBILITY_SCORING' "
            "AND status <> 'deleted' AND (predicted_at AT TIME ZONE 'Asia/Kolkata')::date = %s "
            "ORDER BY prediction_id LIMIT 1) RETURNING prediction_id", (prediction_day,)).fetchone()[0]
    assert _ist_day(urls["citizen"], "(SELECT submitted_at FROM service_applications WHERE application_id = %s)",
                    (moved,)) == moved_to
    return {"moved": moved, "old": old, "moved_to": moved_to, "redecided": redecided, "broken": broken,
            "action": action, "prediction": prediction, "prediction_day": prediction_day}


def _breaches(url: str, day: date) -> int:
    return scalar(url, "SELECT coalesce(sum(step_sla_breaches), 0) FROM agg_daily_applications WHERE date_key = %s",
                  (int(day.strftime("%Y%m%d")),))


def _key(day: date) -> int:
    return int(day.strftime("%Y%m%d"))


def _portal_figures(url: str) -> list[tuple]:
    """What the warehouse wrote to smart_aiml.model_monitoring."""
    return rows(url, "SELECT model_id, metric_date, metric_name, metric_value, threshold, is_breached, status "
                     "FROM model_monitoring WHERE created_by = 'smart-warehouse' ORDER BY 1, 2, 3")


def _batches(url: str, run_id: str) -> dict[str, tuple[int, int, int]]:
    return {a: (b, e, n) for a, b, e, n in rows(
        url, "SELECT asset_key, batch_id, rows_extracted, rows_loaded FROM etl_batches WHERE run_id = %s", (run_id,))}


def test_a_change_driven_run_merges_only_the_changed_rows_and_equals_a_rebuild(simulated):
    urls, _ = simulated
    wh = urls["warehouse"]
    _build_training_set(urls)
    changed = _awkward_changes(urls)
    # A step lands late on an old application of a day nothing else changes: only the step
    # can bring that day's aggregate row (its step-SLA breaches) into the run.
    _, late_day, late_action = land_a_late_step(urls, _NOON_OF_LAST_DAY,
                                                submission_days_changed_after(urls, LAST_DAY), _STAMP)
    breaches_before = _breaches(wh, late_day)
    staged_before = {t: scalar(wh, f"SELECT count(*) FROM staging.{t}") for t in STAGED}  # noqa: S608

    with dg.DagsterInstance.ephemeral() as instance:
        request = evaluate_sensor(refresh_changed_partitions, urls, instance)
        assert isinstance(request, dg.RunRequest), request

        # A fact merge that fails leaves the fact whole and its queue for the next run.
        facts_before = contents(wh, "fact_service_applications")
        with psycopg.connect(wh) as conn:
            conn.execute("ALTER TABLE fact_service_applications ADD CONSTRAINT refuse_moved "
                         f"CHECK (application_id <> '{changed['moved']}') NOT VALID")
        failed = execute_request(urls, request, instance, raise_on_error=False, retries=False)
        assert not failed.success
        assert contents(wh, "fact_service_applications") == facts_before
        assert str(changed["moved"]) in {k for (k,) in rows(
            wh, "SELECT merge_key FROM staging.pending_merge WHERE asset_key = 'fact_service_applications'")}
        with psycopg.connect(wh) as conn:
            conn.execute("ALTER TABLE fact_service_applications DROP CONSTRAINT refuse_moved")

        result = execute_request(urls, request, instance)
        assert result.success  # every check, the reconciliation of each touched day included
        batches = _batches(wh, result.run_id)

        # Staging wrote the changed applications only; the other rows keep the batch that wrote them.
        batch, extracted, loaded = batches["staging/service_applications"]
        rewritten = scalar(wh, "SELECT count(*) FROM staging.service_applications WHERE etl_batch_id = %s", (batch,))
        assert rewritten == loaded <= extracted
        assert extracted < staged_before["service_applications"] / 3  # the night's rows, not their days' rows
        assert scalar(wh, "SELECT count(*) FROM staging.rejected_rows WHERE source_pk = %s AND batch_id = %s",
                      (str(changed["broken"]), batch)) == 1
        # The fact merged the keys staging queued, and the queue is empty again.
        fact_batch, taken, _ = batches["fact_service_applications"]
        assert taken == extracted
        assert scalar(wh, "SELECT count(*) FROM staging.pending_merge") == 0
        # Both prediction facts merged the predictions staging queued, far fewer than it holds.
        outcome_batch, outcome_taken, _ = batches["fact_prediction_outcome"]
        assert outcome_taken == batches["fact_eligibility_scoring"][1]
        assert 0 < outcome_taken < scalar(wh, "SELECT count(*) FROM staging.predictions") / 3
        assert scalar(wh, "SELECT count(*) FROM fact_service_applications WHERE application_id = %s",
                      (changed["broken"],)) == 0
        assert scalar(wh, "SELECT count(*) FROM fact_eligibility_scoring WHERE prediction_id = %s",
                      (changed["prediction"],)) == 0
        assert scalar(wh, "SELECT count(*) FROM fact_application_processing WHERE action_id = %s",
                      (changed["action"],)) == 0
        assert scalar(wh, "SELECT to_date(submitted_date_key::text, 'YYYYMMDD') FROM fact_service_applications "
                          "WHERE application_id = %s", (changed["moved"],)) == changed["moved_to"]

        # Each day's event says whether a changed row entered or left it; the old day of the
        # moved application was touched although nothing is submitted on it any more.
        events = {(e.materialization.asset_key.to_user_string(), e.materialization.partition):
                  {k: v.value for k, v in e.materialization.metadata.items()}
                  for e in result.get_asset_materialization_events()}
        old = events[("fact_service_applications", changed["old"].isoformat())]
        assert old["merged"] is True and old["rows_left"] >= 1 and old["reloaded"] is False
        assert old["dagster/partition_row_count"] == scalar(
            wh, "SELECT count(*) FROM fact_service_applications WHERE submitted_date_key = %s",
            (int(changed["old"].strftime("%Y%m%d")),))
        new = events[("fact_service_applications", changed["moved_to"].isoformat())]
        assert new["merged"] is True and new["rows_loaded"] >= 1
        merged_days = {date.fromisoformat(k) for (a, k), m in events.items()
                       if a == "agg_daily_applications" and m.get("merged")}
        assert {changed["old"], changed["moved_to"], SIMULATED_DAY, late_day} <= merged_days
        assert scalar(wh, "SELECT step_sla_met FROM fact_application_processing WHERE action_id = %s",
                      (late_action,)) is False
        assert _breaches(wh, late_day) == breaches_before + 1
        untouched = [m for (a, _), m in events.items() if a == "fact_service_applications" and not m["merged"]]
        assert all(m["rows_loaded"] == 0 for m in untouched)
        # The performance aggregate recomputed the prediction days the facts' merges touched
        # (a deleted prediction's, the new day's), and wrote nothing on the others.
        recomputed = {date.fromisoformat(k) for (a, k), m in events.items() if a == PERFORMANCE and m.get("merged")}
        outcome_days = {d for (d,) in rows(
            wh, "SELECT DISTINCT to_date(prediction_date_key::text, 'YYYYMMDD') FROM fact_prediction_outcome "
                "WHERE etl_batch_id = %s", (outcome_batch,))}
        assert {changed["prediction_day"], SIMULATED_DAY} | outcome_days <= recomputed
        kept = [m for (a, _), m in events.items() if a == PERFORMANCE and not m["merged"]]
        assert kept and all(m["rows_loaded"] == 0 for m in kept)
        counted = dict(rows(wh, "SELECT to_date(submitted_date_key::text, 'YYYYMMDD'), count(*) "
                                "FROM fact_service_applications GROUP BY 1"))
        total = scalar(wh, "SELECT count(*) FROM fact_service_applications")
        for (asset, key), meta in events.items():  # every day's count is true, touched or not
            if asset == "fact_service_applications":
                assert meta["dagster/partition_row_count"] == counted.get(date.fromisoformat(key), 0), key
                assert meta["dagster/row_count"] == total, key
        # The checks judged the touched days, not the span between them.
        judged = {k for (k,) in rows(wh, "SELECT DISTINCT partition_key FROM etl_data_quality WHERE run_id = %s "
                                         "AND asset_key = 'fact_service_applications' AND check_name = "
                                         "'reconciles_with_source'", (result.run_id,))}
        assert {changed["old"].isoformat(), changed["moved_to"].isoformat()} <= judged
        assert judged == {k for (a, k), m in events.items() if a == "fact_service_applications" and "etl_batch_id" in m}

        # The same window again: the same rows merged again, nothing else moves. First with a
        # write-back to the ML portal that fails: the aggregate keeps no row of that run and the
        # days the prediction facts queued for it wait, queued still.
        incremental = {t: contents(wh, t) for t in REBUILT} | {t: contents(wh, t, "staging") for t in STAGED}
        training_once = training_days(wh)
        with psycopg.connect(urls["aiml"]) as conn:
            conn.execute("ALTER TABLE model_monitoring ADD CONSTRAINT refuse_warehouse "
                         "CHECK (created_by <> 'smart-warehouse') NOT VALID")
        failed = execute_request(urls, request, instance, raise_on_error=False, retries=False)
        assert not failed.success
        assert scalar(wh, "SELECT count(*) FROM agg_model_performance t JOIN etl_batches b "
                          "ON b.batch_id = t.etl_batch_id WHERE b.run_id = %s", (failed.run_id,)) == 0
        queued = {int(k) for (k,) in rows(
            wh, "SELECT merge_key FROM staging.pending_merge WHERE asset_key = %s", (PERFORMANCE,))}
        assert {_key(d) for d in outcome_days | {SIMULATED_DAY}} <= queued
        with psycopg.connect(urls["aiml"]) as conn:
            conn.execute("ALTER TABLE model_monitoring DROP CONSTRAINT refuse_warehouse")
        again = execute_request(urls, request, instance)
        assert again.success
        assert {t: contents(wh, t) for t in REBUILT} | {t: contents(wh, t, "staging") for t in STAGED} == incremental
        assert _batches(wh, again.run_id)["fact_service_applications"][1] == taken
        assert training_days(wh) == training_once

        # The training set wrote every day the rebuild below writes, byte for byte.
        training = training_days(wh)

    portal = _portal_figures(urls["aiml"])
    rebuilt = _rebuilt_from_scratch(urls)
    rebuilt |= {t: contents(wh, t, "staging") for t in STAGED}
    for table in incremental:  # table by table, so a difference names its table
        assert incremental[table] == rebuilt[table], table
    assert _portal_figures(urls["aiml"]) == portal  # the ML portal had every recomputed day already
    assert training_days(wh) == training


def _build_training_set(urls: dict[str, str]) -> None:
    """Every day of the training set, as the full load left it (a copied world has no folder)."""
    assert load_warehouse(urls, TEST_START, LAST_DAY, selection=dg.AssetSelection.assets(
        dg.AssetKey.from_user_string("training/eligibility_scoring"))).success


def _training_rebuilt(result) -> set[date]:
    """The training set's days a change-driven run rebuilt (each day's event says)."""
    return {date.fromisoformat(e.materialization.partition) for e in result.get_asset_materialization_events()
            if e.materialization.asset_key.to_user_string() == "training/eligibility_scoring"
            and e.materialization.metadata["merged"].value}


def _nightly_request(urls: dict[str, str], instance: dg.DagsterInstance, yesterday: date) -> dg.RunRequest:
    """What the nightly schedule asks for at 01:30 IST the day after ``yesterday``."""
    at = datetime.combine(yesterday + timedelta(days=1), datetime.min.time(), IST).replace(hour=1, minute=30)
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=at,
                                   resources=resources(urls)) as context:
        return nightly_incremental(context)


def test_a_decision_moved_to_a_later_day_is_taken_off_its_old_decision_day_in_the_nightly_run(loaded):
    """agg_daily_decisions counts a decision on its decision day. A decision corrected to a later
    day must leave its old day in the nightly run, not at the weekly reload: the old day lies
    before every day the portal shows changed, so only the warehouse knows it. The run judges
    that day, and the warehouse comes out as a rebuild from scratch, table by table."""
    urls = loaded[0]
    wh = urls["warehouse"]
    record_full_load(urls)
    # An early decision whose applicant was scored again after it (that prediction's history changes).
    (app, old), = rows(wh, """
        SELECT f.application_id, (f.decided_at AT TIME ZONE 'Asia/Kolkata')::date FROM fact_service_applications f
        JOIN dim_citizen c ON c.citizen_key = f.citizen_key
        WHERE f.status IN ('approved', 'rejected') AND EXISTS (
            SELECT 1 FROM fact_eligibility_scoring p JOIN dim_citizen pc ON pc.citizen_key = p.citizen_key
            WHERE pc.citizen_id = c.citizen_id AND p.predicted_at > f.decided_at + interval '1 day')
        ORDER BY f.decided_at, f.application_id LIMIT 1""")
    new = old + timedelta(days=5)
    assert new < LAST_DAY
    with psycopg.connect(urls["citizen"]) as conn:
        conn.execute(f"UPDATE service_applications SET decided_at = decided_at + interval '5 days', "
                     f"updated_at = {_STAMP} WHERE application_id = %s", (app,))
    old_key, new_key = (int(d.strftime("%Y%m%d")) for d in (old, new))
    decided_before = dict(rows(wh, "SELECT date_key, sum(decisions) FROM agg_daily_decisions "
                                   "WHERE date_key IN (%s, %s) GROUP BY 1", (old_key, new_key)))

    _build_training_set(urls)
    # What the loads before left queued for the training set (members' new versions).
    queued = [k for (k,) in rows(wh, "SELECT merge_key FROM staging.pending_merge "
                                     "WHERE asset_key = 'training/eligibility_scoring'")]
    with dg.instance_for_test() as instance:
        request = _nightly_request(urls, instance, LAST_DAY)
        assert old not in partitions_of(request)["agg_daily_decisions"]  # the portal no longer shows it
        result = execute_request(urls, request, instance)
    assert result.success

    decided_after = dict(rows(wh, "SELECT date_key, sum(decisions) FROM agg_daily_decisions "
                                  "WHERE date_key IN (%s, %s) GROUP BY 1", (old_key, new_key)))
    assert decided_after.get(old_key, 0) == decided_before[old_key] - 1
    assert decided_after[new_key] == decided_before.get(new_key, 0) + 1
    judged = {k for (k,) in rows(wh, "SELECT partition_key FROM etl_data_quality WHERE run_id = %s AND asset_key = "
                                     "'agg_daily_decisions' AND check_name = 'matches_fact_group_by'", (result.run_id,))}
    assert {old.isoformat(), new.isoformat(), LAST_DAY.isoformat()} <= judged
    # The applicant's approvals before each of their later predictions changed from the old
    # decision day on: the training set rewrote the days of those predictions and of its
    # application's predictions (and of the members queued before), no others.
    predicted = {d for (d,) in rows(wh, "SELECT to_date(prediction_date_key::text, 'YYYYMMDD') "
                                        "FROM fact_eligibility_scoring WHERE application_id = %s", (app,))}
    (applicant,), = rows(wh, "SELECT c.citizen_id FROM fact_service_applications f JOIN dim_citizen c "
                             "USING (citizen_key) WHERE f.application_id = %s", (app,))
    members = [(k.split(":")[1], k.split(":")[2], _key(datetime.strptime(k[1:9], "%Y%m%d").date()))
               for k in queued] + [("dim_citizen", str(applicant), _key(old))]
    assert all(k.startswith(">") and k.count(":") == 2 for k in queued), queued
    later = {d for (d,) in rows(wh, """
        SELECT DISTINCT to_date(p.prediction_date_key::text, 'YYYYMMDD') FROM fact_eligibility_scoring p
        JOIN dim_citizen c ON c.citizen_key = p.citizen_key JOIN dim_scheme s ON s.scheme_key = p.scheme_key
        JOIN unnest(%s::text[], %s::text[], %s::integer[]) m (dim, id, day_key)
          ON p.prediction_date_key >= m.day_key
         AND (m.dim = 'dim_citizen' AND c.citizen_id::text = m.id OR m.dim = 'dim_scheme' AND s.scheme_id::text = m.id)
        """, tuple(map(list, zip(*members))))}
    assert later and len(later) < LAST_DAY.toordinal() - old.toordinal()  # not every day from there on
    assert _training_rebuilt(result) == predicted | later

    incremental = {t: contents(wh, t) for t in REBUILT}
    training = training_days(wh)
    rebuilt = _rebuilt_from_scratch(urls)
    for table in REBUILT:  # table by table, so a difference names its table
        assert incremental[table] == rebuilt[table], table
    # (the rebuild also writes the day after LAST_DAY, which this world leaves empty)
    assert {d: h for d, h in training_days(wh).items() if d <= LAST_DAY.isoformat()} == training


def test_a_late_step_on_an_old_application_counts_on_its_submission_day_in_the_nightly_run(loaded):
    """agg_daily_applications counts the breached workflow steps of each submission day's
    applications. A step that lands late on an application submitted days ago, which itself
    does not change, must reach that submission day's row in the nightly run: the plan names the
    day, the processing fact's merge queues it, the aggregate recomputes and judges it, and the
    warehouse comes out as a rebuild from scratch, table by table."""
    urls = loaded[0]
    wh = urls["warehouse"]
    record_full_load(urls)
    _, submitted, action = land_a_late_step(urls, _NOON_OF_LAST_DAY, set(), _STAMP)
    assert submitted < LAST_DAY - timedelta(days=2)
    before = _breaches(wh, submitted)

    with dg.instance_for_test() as instance:
        request = _nightly_request(urls, instance, LAST_DAY)
        planned = partitions_of(request)
        assert submitted not in planned["fact_service_applications"]  # the application did not change
        assert submitted in planned["agg_daily_applications"]
        result = execute_request(urls, request, instance)
    assert result.success

    assert scalar(wh, "SELECT step_sla_met FROM fact_application_processing WHERE action_id = %s", (action,)) is False
    assert _breaches(wh, submitted) == before + 1
    judged = {k for (k,) in rows(wh, "SELECT partition_key FROM etl_data_quality WHERE run_id = %s AND asset_key = "
                                     "'agg_daily_applications' AND check_name = 'matches_fact_group_by'",
                                 (result.run_id,))}
    assert submitted.isoformat() in judged

    incremental = {t: contents(wh, t) for t in REBUILT}
    rebuilt = _rebuilt_from_scratch(urls)
    for table in REBUILT:  # table by table, so a difference names its table
        assert incremental[table] == rebuilt[table], table


def test_a_citizen_changed_during_a_day_already_built_rewrites_their_rows_from_that_day_on(loaded):
    """The training set reads each prediction's citizen as of its instant. A citizen's new
    version that starts during a day the folder already has (an intra-day run built it) must
    rewrite that citizen's rows of that day and the later ones in the nightly run, although no
    prediction changed; the other rows stay, and the files equal a rebuild's."""
    urls = loaded[0]
    wh = urls["warehouse"]
    record_full_load(urls)
    _build_training_set(urls)
    (citizen, prediction, predicted_at), = rows(wh, """
        SELECT c.citizen_id, p.prediction_id::text, p.predicted_at FROM fact_eligibility_scoring p JOIN dim_citizen c USING (citizen_key)
        WHERE c.is_current AND c.valid_from < p.predicted_at - interval '1 hour'
        ORDER BY p.predicted_at DESC, p.prediction_id LIMIT 1""")
    changed_at = predicted_at - timedelta(hours=1)
    day = changed_at.astimezone(IST).date()
    with psycopg.connect(urls["citizen"]) as conn:
        conn.execute("UPDATE citizens SET district = 'Moved District', updated_at = %s WHERE citizen_id = %s",
                     (changed_at, citizen))

    with dg.instance_for_test() as instance:
        result = execute_request(urls, _nightly_request(urls, instance, LAST_DAY), instance)
    assert result.success
    assert scalar(wh, "SELECT valid_from FROM dim_citizen WHERE citizen_id = %s AND is_current", (citizen,)) == changed_at
    # That day and the citizen's later prediction days are rewritten; no other day from there on.
    theirs = {d for (d,) in rows(wh, "SELECT to_date(p.prediction_date_key::text, 'YYYYMMDD') FROM "
                                     "fact_eligibility_scoring p JOIN dim_citizen c USING (citizen_key) "
                                     "WHERE c.citizen_id = %s AND p.prediction_date_key >= %s", (citizen, _key(day)))}
    assert day in theirs
    assert {d for d in _training_rebuilt(result) if d >= day} == theirs
    moved = pl.scan_parquet(TrainingSetSettings().folder(PostgresResource(url=wh)) / "*.parquet").filter(
        pl.col("prediction_id") == prediction).collect()
    assert moved["district"].to_list() == ["Moved District"]

    training = training_days(wh)
    _build_training_set(urls)  # every day again, from the same warehouse
    assert training_days(wh) == training


def test_an_action_moved_after_the_later_ones_merges_again_the_actions_it_preceded(loaded):
    """An action's minutes count from the action before it. An action moved from first to
    last place changes the previous action of every action it passed, which the portal shows
    only at their old places: the run merges them again (from the moved action's place when
    staged), while a new last action merges no other; the warehouse equals a rebuild."""
    urls = loaded[0]
    wh = urls["warehouse"]
    record_full_load(urls)
    with psycopg.connect(urls["dept"]) as conn:
        (app, first, last_at), = conn.execute("""
            SELECT application_id, (array_agg(action_id ORDER BY action_at, step_number))[1], max(action_at)
            FROM processing_actions WHERE status <> 'deleted' AND action_at < %s
            GROUP BY 1 HAVING count(*) >= 3 ORDER BY 1 LIMIT 1""", (DayRange(LAST_DAY, LAST_DAY).start,)).fetchall()
        conn.execute(f"UPDATE processing_actions SET action_at = %s, updated_at = {_STAMP} WHERE action_id = %s",
                     (last_at + timedelta(minutes=1), first))
    passed = {a for (a,) in rows(wh, "SELECT action_id FROM staging.processing_actions WHERE application_id = %s "
                                     "AND action_id <> %s", (app, first))}
    with dg.instance_for_test() as instance:
        result = execute_request(urls, _nightly_request(urls, instance, LAST_DAY), instance)
    assert result.success
    merged = {a for (a,) in rows(wh, "SELECT action_id FROM fact_application_processing f JOIN etl_batches b "
                                     "ON b.batch_id = f.etl_batch_id WHERE b.run_id = %s", (result.run_id,))}
    assert passed | {first} <= merged

    incremental = {t: contents(wh, t) for t in REBUILT} | {"processing_actions": contents(wh, "processing_actions",
                                                                                          "staging")}
    rebuilt = _rebuilt_from_scratch(urls) | {"processing_actions": contents(wh, "processing_actions", "staging")}
    for table in incremental:  # table by table, so a difference names its table
        assert incremental[table] == rebuilt[table], table
