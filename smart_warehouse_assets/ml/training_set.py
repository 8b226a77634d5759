"""training/eligibility_scoring: a point-in-time training set, one Parquet file per prediction day.

One row per eligibility prediction, with the features as they were at ``predicted_at`` and
nothing stamped later: the citizen and scheme versions valid at that instant (SCD2 range
joins), the application as submitted (only if it was submitted by then), and the applicant's
history up to that instant (applications submitted before it; approvals and rejections
decided before it). The label is the decision, once known. No personal data: no names,
contacts or ids of people, only the prediction's id.

Written with polars, sorted by prediction_id, so a day rebuilt from the same warehouse gives
the same bytes; a manifest (manifest.json) records each day's file, rows, labelled rows and
SHA-256. The whole set reads with one ``polars.scan_parquet(folder / "*.parquet")``.

Because nothing stamped after a prediction reaches its row, a change at instant T can only
alter rows of predictions made after T, besides the changed prediction's own row: a
change-driven run rebuilds those days only (:func:`days_to_rebuild`, merge.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from io import BytesIO
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from smart_warehouse_assets.asset_factory import LoadResult, warehouse_asset
from smart_warehouse_assets.batches import lock_asset, open_batch
from smart_warehouse_assets.frames import day_groups, read_frame
from smart_warehouse_assets.partition_metadata import DayFigures
from smart_warehouse_assets.merge import merge_window, take
from smart_warehouse_assets.partitions import DayRange, day_range
from smart_warehouse_assets.paths import STATE_DIR
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.sources import registry

ASSET = "training/eligibility_scoring"
DATASET = "eligibility_scoring"
TRAINING_ENV = "SMART_TRAINING_DIR"  # another root for the training sets (tests use their own)
MANIFEST = "manifest.json"

# The columns, in file order, with their type and meaning (the asset's column docs).
COLUMNS: dict[str, tuple[pl.DataType, str]] = {
    "prediction_id": (pl.String(), "The prediction (predictions.prediction_id in smart_aiml); the row's key."),
    "predicted_at": (pl.Datetime("us", "UTC"), "When the production model scored; every feature is as of this instant."),
    "prediction_date": (pl.Date(), "IST day of predicted_at: the file the row is in."),
    "model_version": (pl.String(), "Version of the production model that scored."),
    "age_band": (pl.String(), "Citizen's age band in the dim_citizen version valid at predicted_at."),
    "gender": (pl.String(), "Citizen's gender (male, female, other, unknown), version valid at predicted_at."),
    "district": (pl.String(), "Citizen's district, version valid at predicted_at."),
    "state": (pl.String(), "Citizen's state, version valid at predicted_at."),
    "scheme_category": (pl.String(), "Scheme category in the dim_scheme version valid at predicted_at."),
    "benefit_amount": (pl.Float64(), "Scheme benefit in rupees, version valid at predicted_at."),
    "sla_days": (pl.Int32(), "Scheme SLA in days, version valid at predicted_at."),
    "amount_requested": (pl.Float64(), "Amount requested in the application, in rupees (null unless submitted by predicted_at)."),
    "channel": (pl.String(), "Channel the application came through: web, mobile, csc, counter."),
    "prior_applications": (pl.Int64(), "Applications the citizen submitted before predicted_at (this one excluded)."),
    "prior_approvals": (pl.Int64(), "Of those, approved with a decision before predicted_at."),
    "prior_rejections": (pl.Int64(), "Of those, rejected with a decision before predicted_at."),
    "days_since_last_application": (pl.Float64(), "Days from the citizen's previous submission to predicted_at; null without one."),
    "production_score": (pl.Float64(), "Eligibility score the production model gave (not a feature: the baseline to beat)."),
    "production_predicted": (pl.Boolean(), "Whether the production model predicted eligible (the baseline's class)."),
    "label": (pl.Boolean(), "True when the application was approved, false when rejected; null until decided."),
}

# The rows of the days, every feature from rows stamped at or before predicted_at.
_ROWS = """
SELECT p.prediction_id::text, p.predicted_at, to_date(p.prediction_date_key::text, 'YYYYMMDD'), p.model_version,
       c.age_band, c.gender, c.district, c.state,
       s.category, s.benefit_amount::float8, s.sla_days,
       a.amount_requested::float8, a.channel,
       coalesce(h.prior_applications, 0), coalesce(h.prior_approvals, 0), coalesce(h.prior_rejections, 0),
       round((extract(epoch FROM p.predicted_at - h.last_submitted_at) / 86400)::numeric, 4)::float8,
       p.eligibility_score::float8, p.predicted_eligible,
       CASE p.actual_outcome WHEN 'approved' THEN true WHEN 'rejected' THEN false END
FROM public.fact_eligibility_scoring p
LEFT JOIN public.dim_citizen pc ON pc.citizen_key = p.citizen_key AND pc.citizen_id IS NOT NULL
LEFT JOIN public.dim_citizen c ON c.citizen_id = pc.citizen_id
      AND p.predicted_at >= c.valid_from AND p.predicted_at < c.valid_to
LEFT JOIN public.dim_scheme ps ON ps.scheme_key = p.scheme_key AND ps.scheme_id IS NOT NULL
LEFT JOIN public.dim_scheme s ON s.scheme_id = ps.scheme_id
      AND p.predicted_at >= s.valid_from AND p.predicted_at < s.valid_to
LEFT JOIN public.fact_service_applications a ON a.application_id = p.application_id
      AND a.submitted_at <= p.predicted_at
LEFT JOIN LATERAL (
    SELECT count(*) AS prior_applications,
           count(*) FILTER (WHERE x.status = 'approved' AND x.decided_at <= p.predicted_at) AS prior_approvals,
           count(*) FILTER (WHERE x.status = 'rejected' AND x.decided_at <= p.predicted_at) AS prior_rejections,
           max(x.submitted_at) AS last_submitted_at
    FROM public.fact_service_applications x
    WHERE x.citizen_key IN (SELECT v.citizen_key FROM public.dim_citizen v WHERE v.citizen_id = pc.citizen_id)
      AND x.submitted_at < p.predicted_at AND x.application_id IS DISTINCT FROM p.application_id
) h ON pc.citizen_id IS NOT NULL
WHERE p.prediction_date_key = ANY(%(day_keys)s)
"""


def default_root() -> str:
    return os.environ.get(TRAINING_ENV) or str(STATE_DIR / "training")


class TrainingSetSettings(dg.ConfigurableResource):
    """Where the training sets are written: <root>/<warehouse database>/<dataset>/."""

    root: str = ""  # empty: $SMART_TRAINING_DIR, else <state dir>/training (paths.py)

    def folder(self, warehouse: PostgresResource) -> Path:
        return Path(self.root or default_root()) / warehouse.dbname / DATASET


def schema() -> dict[str, pl.DataType]:
    return {name: dtype for name, (dtype, _) in COLUMNS.items()}


def read_days(conn, days: DayRange) -> pl.DataFrame:
    """The rows of ``days``, sorted by prediction (frames.py: streamed as CSV, a third of the
    time of fetching Python rows)."""
    return read_frame(conn, _ROWS, {"day_keys": days.day_keys()}, schema()).sort("prediction_id")


def file_name(day: date) -> str:
    return f"{DATASET}_{day.isoformat()}.parquet"


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


def write_files(folder: Path, frame: pl.DataFrame, days: DayRange) -> dict[str, dict]:
    """One file per day of ``days`` (an empty one for a day without predictions); returns the
    manifest's entries for them."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for day in days.days():
        part = frame.filter(pl.col("prediction_date") == day)
        data = parquet_bytes(part)
        _write_atomically(folder / file_name(day), data)
        written[day.isoformat()] = {"file": file_name(day), "rows": part.height,
                                    "labelled": int(part["label"].is_not_null().sum()),
                                    "sha256": hashlib.sha256(data).hexdigest()}
    return written


def write_manifest(folder: Path, written: dict[str, dict]) -> None:
    """The manifest with the entries of the days just written (the others kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"dataset": DATASET, "days": {}}
    manifest["days"] = dict(sorted((manifest["days"] | written).items()))
    _write_atomically(manifest_path, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())


_PER_DAY = """
SELECT to_date(prediction_date_key::text, 'YYYYMMDD'), count(*) FROM public.fact_eligibility_scoring
WHERE prediction_date_key = ANY(%(day_keys)s) GROUP BY 1
"""


def chunks(conn, days: DayRange) -> list[DayRange]:
    """``days`` in groups of about frames.GROUP_ROWS predictions, read one at a time."""
    counts = dict(conn.execute(_PER_DAY, {"day_keys": days.day_keys()}).fetchall())
    return day_groups(days, counts)


def verify(folder: Path) -> dict[str, dict]:
    """Every file of the manifest is there with its checksum and row count (raises otherwise)."""
    manifest = json.loads((folder / MANIFEST).read_text())
    for day, entry in manifest["days"].items():
        data = (folder / entry["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ValueError(f"{entry['file']}: checksum differs from the manifest")
        if pl.read_parquet(data).height != entry["rows"]:
            raise ValueError(f"{entry['file']}: row count differs from the manifest")
    return manifest["days"]


def _manifest_days(folder: Path) -> set[date]:
    path = folder / MANIFEST
    return {date.fromisoformat(d) for d in json.loads(path.read_text())["days"]} if path.exists() else set()


def days_to_rebuild(conn, folder: Path, run_days: DayRange) -> DayRange:
    """In a change-driven run, the days whose rows may differ: the prediction days the fact
    merged (a prediction, its label or its application changed), every day from the earliest
    instant a point-in-time input changed (">YYYYMMDD": an applicant's submission or decision,
    a citizen's or scheme's new version; nothing stamped before it can change) among the days
    the folder has, and the run's days it does not have yet. Takes the queue inside ``conn``'s
    transaction (a failure leaves it for the next run)."""
    take(conn, ASSET, "text")
    exact, since = set(), None
    for (key,) in conn.execute("SELECT k FROM merging"):
        day = datetime.strptime(key.lstrip(">"), "%Y%m%d").date()
        if key.startswith(">"):
            since = day if since is None else min(since, day)
        else:
            exact.add(day)
    built = _manifest_days(folder)
    chosen = exact | (set(run_days.days()) - built)  # a fact merges rows of any day: so does this
    if since is not None:
        chosen |= {d for d in built | chosen if d >= since}
    return DayRange.of(chosen, run_days.last)


def _load(context: dg.AssetExecutionContext, days: DayRange | None, *, warehouse: PostgresResource,
          training: TrainingSetSettings):
    if days is None:
        raise dg.Failure(f"{ASSET} is partitioned by day: give a partition or a range of days")
    folder = training.folder(warehouse)
    # Merge only when every fact it reads merged too (each queued what it changed).
    merging = all(merge_window(context, registry.feeding(a)) is not None
                  for a in ("fact_eligibility_scoring", "fact_service_applications"))
    with open_batch(context, warehouse, days) as batch:
        with warehouse.transaction() as conn:
            lock_asset(conn, ASSET)  # one writer of the folder and its manifest at a time
            if merging:
                days = days_to_rebuild(conn, folder, day_range(context))
                batch.merged_days = set(days.days())
                batch.judged = days
            conn.execute("SET LOCAL jit = off")  # compiling the query per chunk costs more than it saves
            written: dict[str, dict] = {}
            for chunk in chunks(conn, days):
                written |= write_files(folder, read_days(conn, chunk), chunk)
            write_manifest(folder, written)
            for day, entry in written.items():
                n = entry["rows"]
                batch.per_day[date.fromisoformat(day)] = DayFigures(extracted=n, loaded=n, in_partition=n)
            batch.rows_extracted = batch.rows_loaded = sum(e["rows"] for e in written.values())
            batch.succeed(conn)
    total = sum(e["rows"] for e in json.loads((folder / MANIFEST).read_text())["days"].values())
    context.log.info(f"{ASSET} {days.label}: {batch.rows_loaded} rows in {len(written)} files under {folder}")
    return LoadResult(batch, {"dagster/row_count": total, "folder": dg.MetadataValue.path(str(folder)),
                              "labelled_rows": sum(e["labelled"] for e in written.values())})


training_eligibility_scoring = warehouse_asset(
    key=dg.AssetKey.from_user_string(ASSET),
    description="Point-in-time training set for eligibility scoring: one row per prediction with the features "
    "as they were when it was made (citizen and scheme versions then, the application, the applicant's "
    "history up to that instant) and the decision as label once known. Parquet, one file per IST prediction "
    "day, with a manifest of rows and checksums; read it with polars.scan_parquet(folder / '*.parquet'). "
    "See docs/ml.md.",
    group="ml",
    deps=[dg.AssetKey("fact_eligibility_scoring"), dg.AssetKey("fact_service_applications"),
          dg.AssetKey("dim_citizen"), dg.AssetKey("dim_scheme")],
    checks=[],
    load=_load,
    metadata={"dagster/column_schema": dg.TableSchema(columns=[
        dg.TableColumn(name, str(dtype), description=text) for name, (dtype, text) in COLUMNS.items()]),
        "format": "parquet", "grain": "one row per eligibility prediction"},
    partitioned=True,
    kinds=frozenset({"polars", "parquet"}),
    resources={"training": TrainingSetSettings},
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=30), warn_window=timedelta(hours=26)),
)
