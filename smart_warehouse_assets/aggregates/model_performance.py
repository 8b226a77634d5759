"""agg_model_performance: how well each model version predicted, per prediction day, in polars.

The judged predictions of both prediction facts are read in one query, and the figures are
computed per (day, model_key, use case) in polars: accuracy, precision, recall, F1, ROC AUC
(rank statistic, ties count half), Brier score, calibration by score decile and its
expected calibration error, mean confidence. The days are replaced in one warehouse
transaction, and inside it the same figures are upserted into smart_aiml.model_monitoring
(with the configured threshold and whether it is breached), so the ML portal sees what the
warehouse measured. Re-running a day writes the same rows in both places.

Which days: the run's range, or, in a change-driven run (merge.py), only the days the
prediction facts queued for it (the prediction days of the rows they merged, as they were and
are), taken from ``staging.pending_merge`` inside that transaction. A failure before the
warehouse commits rolls the taking back, so the days wait for the next run; the portal may
then already hold their figures, which that run writes again, the same.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date, timedelta

import dagster as dg
import polars as pl
from psycopg import sql

from smart_warehouse_assets.asset_factory import LoadResult, warehouse_asset
from smart_warehouse_assets.batches import Batch, lock_asset, open_batch
from smart_warehouse_assets.catalog import table_metadata
from smart_warehouse_assets.frames import day_groups, read_frame
from smart_warehouse_assets.merge import judged_days, merge_window, take, take_followed
from smart_warehouse_assets.partition_metadata import DayFigures, count_days
from smart_warehouse_assets.partitions import DayRange, compress, day_range
from smart_warehouse_assets.quality.rules import (
    DATE,
    MODEL,
    batch_recorded,
    day_filter,
    keys_resolve,
    latest_partition_fresh,
    per_day,
    query_rows,
    schema_matches_contract,
)
from smart_warehouse_assets.quality.spec import ERROR, WARN, Check, CheckScope, QualityThresholds
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.sources import registry

TABLE = "agg_model_performance"
KEYS = ["date_key", "model_key", "use_case_code"]
METRICS = ["accuracy", "precision_score", "recall_score", "f1_score", "roc_auc", "brier_score",
           "calibration_error", "mean_confidence"]
COLUMNS = [*KEYS, "predictions", "predictions_judged", "predictions_correct", *METRICS, "calibration"]

# Every prediction of the days ({days}: a condition on a date key column), with the
# positive-class score, the predicted class and the outcome (null until known). Eligible,
# breach and abandon are the positive classes.
PREDICTIONS = """
SELECT prediction_date_key AS date_key, model_key, 'ELIGIBILITY_SCORING' AS use_case_code,
       eligibility_score::float8 AS score, predicted_eligible AS predicted,
       CASE WHEN actual_outcome IS NOT NULL THEN actual_outcome = 'approved' END AS actual,
       confidence_score::float8 AS confidence
FROM public.fact_eligibility_scoring WHERE {days}
UNION ALL
SELECT prediction_date_key, model_key, use_case_code, positive_score::float8, predicted_positive,
       actual_positive, confidence_score::float8
FROM public.fact_prediction_outcome WHERE {days}
"""
# The days a load recomputes: the run's range, or the days a change-driven run took (merge.py).
_RANGE = "{} BETWEEN %(first_key)s AND %(last_key)s"
_TAKEN = "{} IN (SELECT k FROM merging)"
_RANGE_OR_TAKEN = "({0} BETWEEN %(first_key)s AND %(last_key)s OR {0} IN (SELECT k FROM merging))"
_LISTED = "{} = ANY(%(day_keys)s)"
_SCHEMA = {"date_key": pl.Int32, "model_key": pl.Int64, "use_case_code": pl.String, "score": pl.Float64,
           "predicted": pl.Boolean, "actual": pl.Boolean, "confidence": pl.Float64}


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(None)


def performance(predictions: pl.DataFrame, keys: list[str] = KEYS) -> pl.DataFrame:
    """The figures per ``keys`` (by default date_key, model_key, use_case_code), rounded to 5
    decimals, in COLUMNS order (with ``keys`` first)."""
    judged = predictions.filter(pl.col("actual").is_not_null())
    scored = judged.filter(pl.col("score").is_not_null()).with_columns(
        rank=pl.col("score").rank("average").over(keys),
        decile=(pl.col("score") * 10).floor().clip(0, 9).cast(pl.Int8),
    )
    p, a = pl.col("predicted"), pl.col("actual")
    counts = judged.group_by(keys).agg(
        predictions_judged=pl.len(),
        tp=(p & a).sum().cast(pl.Int64), fp=(p & ~a).sum().cast(pl.Int64),
        fn=(~p & a).sum().cast(pl.Int64), tn=(~p & ~a).sum().cast(pl.Int64),
        mean_confidence=pl.col("confidence").mean(),
    )
    ranks = scored.group_by(keys).agg(
        positives=a.sum().cast(pl.Int64), negatives=(~a).sum().cast(pl.Int64),
        positive_rank_sum=pl.col("rank").filter(a).sum(),
        brier_score=((pl.col("score") - a.cast(pl.Float64)) ** 2).mean(),
        scored=pl.len(),
    )
    deciles = (
        scored.group_by([*keys, "decile"])
        .agg(predictions=pl.len(), mean_score=pl.col("score").mean(), observed_rate=a.cast(pl.Float64).mean())
        .with_columns(pl.col("mean_score").round(5), pl.col("observed_rate").round(5))
        .sort([*keys, "decile"])
    )
    calibration = (
        deciles.join(ranks.select([*keys, "scored"]), on=keys)
        .group_by(keys, maintain_order=True)
        .agg(
            calibration_error=((pl.col("mean_score") - pl.col("observed_rate")).abs() * pl.col("predictions")).sum()
            / pl.col("scored").first(),
            calibration=pl.concat_str(
                pl.lit("["),
                pl.struct("decile", "predictions", "mean_score", "observed_rate").struct.json_encode().str.join(", "),
                pl.lit("]"),
            ),
        )
    )
    n_pos, n_neg = pl.col("positives"), pl.col("negatives")
    tp, fp, fn, tn = pl.col("tp"), pl.col("fp"), pl.col("fn"), pl.col("tn")
    out = (
        predictions.group_by(keys).agg(predictions=pl.len())
        .join(counts, on=keys, how="left")
        .join(ranks, on=keys, how="left")
        .join(calibration, on=keys, how="left")
        .with_columns(pl.col("predictions_judged").fill_null(0))
        .with_columns(
            predictions_correct=(tp + tn).fill_null(0),
            accuracy=_ratio(tp + tn, pl.col("predictions_judged")),
            precision_score=_ratio(tp, tp + fp),
            recall_score=_ratio(tp, tp + fn),
            f1_score=_ratio(2 * tp, 2 * tp + fp + fn),
            roc_auc=_ratio(pl.col("positive_rank_sum") - n_pos * (n_pos + 1) / 2, n_pos * n_neg),
        )
        .with_columns([pl.col(m).cast(pl.Float64).round(5) for m in METRICS])
        .sort(keys)
    )
    counted = pl.col("predictions", "predictions_judged", "predictions_correct").cast(pl.Int64)
    return out.select(*keys, *COLUMNS[len(KEYS):]).with_columns(counted)


def _days(condition: str, column: str) -> sql.Composable:
    return sql.SQL(condition).format(sql.Identifier(column))


def read_predictions(conn, days: DayRange) -> pl.DataFrame:
    query = sql.SQL(PREDICTIONS).format(days=_days(_LISTED, "prediction_date_key"))
    return read_frame(conn, query, {"day_keys": days.day_keys()}, _SCHEMA)


_PER_DAY = """
SELECT to_date(k::text, 'YYYYMMDD'), count(*) FROM (
    SELECT prediction_date_key AS k FROM public.fact_eligibility_scoring WHERE prediction_date_key = ANY(%(day_keys)s)
    UNION ALL
    SELECT prediction_date_key FROM public.fact_prediction_outcome WHERE prediction_date_key = ANY(%(day_keys)s)
) p GROUP BY 1
"""


def measure(conn, days: DayRange, model_ids: pl.DataFrame, thresholds: QualityThresholds,
            batch: Batch) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The figures of ``days`` and the rows for the ML portal, read a group of days at a time
    (frames.day_groups: memory stays flat however many days); counts land on ``batch``."""
    counts = dict(conn.execute(_PER_DAY, {"day_keys": days.day_keys()}).fetchall())
    figures, monitored = [], []
    batch.rows_extracted = 0
    for group in day_groups(days, counts):
        predictions = read_predictions(conn, group)
        figures.append(performance(predictions))
        monitored.append(monitoring_rows(predictions, model_ids, thresholds))
        for day, n in predictions.group_by("date_key").len().iter_rows():
            batch.per_day[_day(day)] = DayFigures(extracted=n)
        batch.rows_extracted += predictions.height
    return pl.concat(figures).sort(KEYS), pl.concat(monitored).sort("model_id", "metric_date", "metric_name")


_GONE = "CREATE TEMP TABLE gone (date_key integer, model_key bigint, use_case_code text) ON COMMIT DROP"
_DELETE = """
WITH d AS (DELETE FROM public.agg_model_performance t WHERE {days} RETURNING date_key, model_key, use_case_code)
INSERT INTO gone SELECT * FROM d
"""
# Per day, the rows that were there and are no more (a model that no longer predicted that day).
_LEFT = """
SELECT g.date_key, count(*) FROM gone g
WHERE NOT EXISTS (SELECT 1 FROM public.agg_model_performance a
                  WHERE (a.date_key, a.model_key, a.use_case_code) = (g.date_key, g.model_key, g.use_case_code))
GROUP BY 1
"""


def _replace_days(conn, batch: Batch, days: DayRange, condition: str, figures: pl.DataFrame) -> None:
    """Delete the rows of the days, copy the figures in; inside the caller's transaction."""
    buffer = io.BytesIO()
    figures.with_columns(etl_batch_id=pl.lit(batch.batch_id)).write_csv(buffer, include_header=False)
    conn.execute(_GONE)
    conn.execute(sql.SQL(_DELETE).format(days=_days(condition, "date_key")),
                 {"first_key": days.first_key, "last_key": days.last_key})
    columns = sql.SQL(", ").join(map(sql.Identifier, [*COLUMNS, "etl_batch_id"]))
    with conn.cursor().copy(sql.SQL("COPY public.agg_model_performance ({}) FROM STDIN (FORMAT csv)")
                            .format(columns)) as copy:
        copy.write(buffer.getvalue())
    for day, left in conn.execute(_LEFT).fetchall():
        batch.per_day.setdefault(_day(day), DayFigures()).left = left
    batch.rows_loaded = figures.height
    conn.execute("ANALYZE public.agg_model_performance")


# ------------------------------------------------------------------ written back to the ML portal

WRITER = "smart-warehouse"
PREFIX = "warehouse_"  # metric names the warehouse owns in model_monitoring
# metric -> (threshold from QualityThresholds, True when breached below it / False above it)
THRESHOLDS = {"accuracy": ("model_accuracy_min", True), "roc_auc": ("model_roc_auc_min", True),
              "brier_score": ("model_brier_max", False)}
_MONITORED = ["predictions_judged", *METRICS]

_UPSERT = """
INSERT INTO public.model_monitoring (model_id, metric_date, metric_name, metric_value, threshold, is_breached,
                                     status, created_by, updated_by)
SELECT model_id, metric_date, metric_name, metric_value, threshold, is_breached, 'active', %(writer)s, %(writer)s
FROM monitored
ON CONFLICT (model_id, metric_date, metric_name) DO UPDATE
SET metric_value = EXCLUDED.metric_value, threshold = EXCLUDED.threshold, is_breached = EXCLUDED.is_breached,
    status = 'active', updated_at = now(), updated_by = EXCLUDED.updated_by
WHERE (model_monitoring.metric_value, model_monitoring.threshold, model_monitoring.is_breached,
       model_monitoring.status) IS DISTINCT FROM
      (EXCLUDED.metric_value, EXCLUDED.threshold, EXCLUDED.is_breached, 'active')
"""
# A figure the warehouse wrote earlier for these days that it no longer measures is withdrawn.
_WITHDRAW = """
UPDATE public.model_monitoring m SET status = 'deleted', updated_at = now(), updated_by = %(writer)s
WHERE m.metric_date = ANY(%(days)s) AND m.metric_name LIKE 'warehouse\\_%%'
  AND m.created_by = %(writer)s AND m.status <> 'deleted'
  AND NOT EXISTS (SELECT 1 FROM monitored x WHERE x.model_id = m.model_id AND x.metric_date = m.metric_date
                  AND x.metric_name = m.metric_name)
"""


def monitoring_rows(predictions: pl.DataFrame, model_ids: pl.DataFrame, thresholds: QualityThresholds) -> pl.DataFrame:
    """One row per (model_id, day, metric) measured, with its threshold and whether it is breached.

    The portal knows a model version, not its states: the figures are computed again per
    model_id (a version whose status changed during a day is one row there). Only known models
    (model_key -1 has no model_id) and non-null figures are written; a threshold is judged
    only once a model-day has model_min_judged judged predictions."""
    figures = performance(predictions.join(model_ids, on="model_key"), ["date_key", "model_id", "use_case_code"])
    long = (
        figures
        .with_columns(pl.col("predictions_judged").cast(pl.Float64))
        .unpivot(index=["model_id", "date_key"], on=_MONITORED, variable_name="metric", value_name="metric_value")
        .drop_nulls("metric_value")
    )
    judged = figures.select("model_id", "date_key", judged="predictions_judged")
    threshold = pl.lit(None, dtype=pl.Float64)
    breached = pl.lit(False)
    for metric, (field, below) in THRESHOLDS.items():
        limit = getattr(thresholds, field)
        is_metric = pl.col("metric") == metric
        threshold = pl.when(is_metric).then(pl.lit(limit)).otherwise(threshold)
        over = pl.col("metric_value") < limit if below else pl.col("metric_value") > limit
        breached = pl.when(is_metric).then(over & (pl.col("judged") >= thresholds.model_min_judged)).otherwise(breached)
    return (
        long.join(judged, on=["model_id", "date_key"])
        .with_columns(threshold=threshold, is_breached=breached,
                      metric_name=pl.lit(PREFIX) + pl.col("metric"),
                      metric_date=pl.col("date_key").cast(pl.String).str.to_date("%Y%m%d"))
        .select("model_id", "metric_date", "metric_name", "metric_value", "threshold", "is_breached")
        .sort("model_id", "metric_date", "metric_name")
    )


def write_back(aiml: PostgresResource, rows: pl.DataFrame, days: list[date]) -> int:
    """Upsert the figures of ``days`` into smart_aiml.model_monitoring in one transaction, withdraw
    what the warehouse no longer measures on them; returns rows written."""
    buffer = io.BytesIO()
    rows.write_csv(buffer, include_header=False)
    with aiml.transaction() as conn:
        conn.execute("CREATE TEMP TABLE monitored (model_id uuid, metric_date date, metric_name text, "
                     "metric_value double precision, threshold double precision, is_breached boolean) ON COMMIT DROP")
        with conn.cursor().copy("COPY monitored FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        written = conn.execute(_UPSERT, {"writer": WRITER}).rowcount
        written += conn.execute(_WITHDRAW, {"writer": WRITER, "days": days}).rowcount
    return written


def _load(context: dg.AssetExecutionContext, days: DayRange | None, *, warehouse: PostgresResource,
          portals: Mapping[str, PostgresResource], quality: QualityThresholds):
    if days is None:
        raise dg.Failure(f"{TABLE} is partitioned by day: give a partition or a range of days")
    # As daily_asset decides for the facts it is built from (facts/load.py).
    merging = merge_window(context, registry.PREDICTIONS) is not None
    condition = _TAKEN if merging else _RANGE
    with open_batch(context, warehouse, days) as batch, warehouse.transaction() as conn:
        lock_asset(conn, TABLE)
        if merging:
            take(conn, TABLE, "integer")
            recomputed = sorted(_day(k) for (k,) in conn.execute("SELECT k FROM merging"))
        else:  # and the days outside the range whose predictions moved in (merge.py, range runs)
            followed = take_followed(conn, TABLE, "integer", "{k}::integer", days)
            batch.followed = {_day(k) for (k,) in conn.execute("SELECT k FROM merging")} if followed else set()
            condition = _RANGE_OR_TAKEN if followed else _RANGE
            recomputed = sorted({*days.days(), *batch.followed})
        model_ids = pl.DataFrame(conn.execute("SELECT model_key, model_id::text FROM public.dim_model "
                                              "WHERE model_key <> -1").fetchall(),
                                 schema={"model_key": pl.Int64, "model_id": pl.String}, orient="row")
        conn.execute("SET LOCAL jit = off")  # compiling the read per group costs more than it saves
        figures, monitored = measure(conn, DayRange.of(recomputed, days.last), model_ids, quality, batch)
        _replace_days(conn, batch, days, condition, figures)
        # Before the warehouse commits: a failed write-back leaves the days to recompute (and,
        # in a change-driven run, queued).
        written = write_back(portals["aiml"], monitored, recomputed)
        batch.succeed(conn)
    if merging:
        batch.merged_days = set(recomputed)
        batch.judged = judged_days(context, context.asset_key, recomputed)
    run_days = day_range(context)
    with warehouse.connect() as conn:
        table = sql.SQL("public.{}").format(sql.Identifier(TABLE))
        total = count_days(conn, table, "date_key", run_days, batch.batch_id, batch.per_day, date_key=True,
                           written=batch.judged)
    what = f"{compress(recomputed) or 'no day'} (queued)" if merging else days.label
    context.log.info(f"{TABLE} {what}: {figures.height} model-days from {batch.rows_extracted} predictions; "
                     f"{written} rows written to smart_aiml.model_monitoring")
    return LoadResult(batch, {"dagster/row_count": total, "model_monitoring_rows_written": written})


def _day(date_key: int) -> date:
    return date(date_key // 10000, date_key // 100 % 100, date_key % 100)


# ------------------------------------------------------------------ checks

_EXPECTED = """
SELECT prediction_date_key AS date_key, model_key, 'ELIGIBILITY_SCORING' AS use_case_code, count(*) AS n,
       count(actual_outcome) AS judged, count(*) FILTER (WHERE is_correct) AS correct
FROM public.fact_eligibility_scoring t WHERE {where_e} GROUP BY 1, 2, 3
UNION ALL
SELECT prediction_date_key, model_key, use_case_code, count(*), count(outcome), count(*) FILTER (WHERE is_correct)
FROM public.fact_prediction_outcome t WHERE {where_o} GROUP BY 1, 2, 3
"""
_DIFF = """
WITH expected AS ({expected}),
diff AS (
    SELECT coalesce(a.date_key, e.date_key) AS date_key,
           concat_ws('/', coalesce(a.date_key, e.date_key), coalesce(a.model_key, e.model_key),
                     coalesce(a.use_case_code, e.use_case_code)) AS grain
    FROM (SELECT * FROM public.agg_model_performance t WHERE {where}) a
    FULL JOIN expected e USING (date_key, model_key, use_case_code)
    WHERE a.date_key IS NULL OR e.date_key IS NULL
       OR (a.predictions, a.predictions_judged, a.predictions_correct) IS DISTINCT FROM (e.n, e.judged, e.correct)
)
SELECT to_date(date_key::text, 'YYYYMMDD'), count(*), (array_agg(grain ORDER BY grain))[1:5] FROM diff GROUP BY 1
"""


def _matches_facts() -> Check:
    def evaluate(scope: CheckScope):
        where, params = day_filter("date_key", scope)
        where_e, _ = day_filter("prediction_date_key", scope)
        expected = sql.SQL(_EXPECTED).format(where_e=where_e, where_o=where_e)
        query = sql.SQL(_DIFF).format(expected=expected, where=where)
        return per_day(scope, query_rows(scope, query, params), "= 0 model-days differ", lambda v: v == 0)

    return Check(
        "matches_prediction_facts",
        "Each day of agg_model_performance has one row per model and use case that predicted that day, whose "
        "predictions, predictions_judged and predictions_correct equal a count over fact_eligibility_scoring "
        "and fact_prediction_outcome.",
        ERROR, evaluate,
    )


_BELOW = """
SELECT to_date(t.date_key::text, 'YYYYMMDD'), count(*),
       (array_agg(concat_ws(' ', m.model_name, m.model_version, 'accuracy', t.accuracy, 'roc_auc', t.roc_auc,
                            'brier', t.brier_score) ORDER BY t.model_key))[1:5]
FROM public.agg_model_performance t JOIN public.dim_model m ON m.model_key = t.model_key
WHERE {where} AND t.predictions_judged >= %(min_judged)s
  AND (t.accuracy < %(accuracy)s OR t.roc_auc < %(roc_auc)s OR t.brier_score > %(brier)s)
GROUP BY 1
"""


def _model_quality() -> Check:
    def evaluate(scope: CheckScope):
        th = scope.thresholds
        where, params = day_filter("date_key", scope)
        params |= {"min_judged": th.model_min_judged, "accuracy": th.model_accuracy_min,
                   "roc_auc": th.model_roc_auc_min, "brier": th.model_brier_max}
        query = sql.SQL(_BELOW).format(where=where)
        return per_day(scope, query_rows(scope, query, params), "= 0 models below their thresholds",
                       lambda v: v == 0, lambda v: WARN)

    return Check(
        "models_above_threshold",
        "No model with at least model_min_judged judged predictions on a day falls below model_accuracy_min or "
        "model_roc_auc_min, or above model_brier_max (QualityThresholds): a WARN, the same verdict written to "
        "smart_aiml.model_monitoring as is_breached.",
        WARN, evaluate, blocking=False,
    )


_GRAIN = "concat_ws('/', t.date_key, t.model_key, t.use_case_code)"
CHECKS = [
    keys_resolve(TABLE, "date_key", {"model_key": MODEL, "date_key": DATE}, _GRAIN),
    _matches_facts(),
    _model_quality(),
    batch_recorded(TABLE, "date_key", _GRAIN),
    schema_matches_contract(TABLE),
    latest_partition_fresh(TABLE, "date_key"),
]

agg_model_performance = warehouse_asset(
    key=dg.AssetKey(TABLE),
    description="Daily performance of each model version per prediction day (accuracy, precision, recall, F1, "
    "ROC AUC, Brier score, calibration by score decile, mean confidence), computed in polars from the "
    "prediction facts and written back to smart_aiml.model_monitoring with thresholds and breaches.",
    group="aggregates",
    deps=[dg.AssetKey("fact_eligibility_scoring"), dg.AssetKey("fact_prediction_outcome"), dg.AssetKey("dim_model")],
    checks=CHECKS,
    load=_load,
    metadata=table_metadata(TABLE),
    partitioned=True,
    kinds=frozenset({"postgres", "polars"}),
    reads=("aiml",),
    resources={"quality": QualityThresholds},
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=30), warn_window=timedelta(hours=26)),
)
