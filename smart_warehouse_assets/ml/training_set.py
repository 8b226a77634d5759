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

Because nothing stamped after a prediction reaches its row, a change at instant T to a
citizen (a new version, an application submitted or decided) or to a scheme can only alter
rows of that member's predictions made after T, besides the changed prediction's own row: a
change-driven run recomputes those rows only and rewrites the files of their days with the
other rows kept as they were (:func:`plan`, merge.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
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
WHERE {where}
"""
# Every prediction of the days; only the predictions of the days a change-driven run recomputes.
_OF_DAYS = "p.prediction_date_key = ANY(%(day_keys)s)"
_AFFECTED_OF_DAYS = "p.prediction_id IN (SELECT a.prediction_id FROM affected a WHERE a.day_key = ANY(%(day_keys)s))"


def default_root() -> str:
    return os.environ.get(TRAINING_ENV) or str(STATE_DIR / "training")


class TrainingSetSettings(dg.ConfigurableResource):
    """Where the training sets are written: <root>/<warehouse database>/<dataset>/."""

    root: str = ""  # empty: $SMART_TRAINING_DIR, else <state dir>/training (paths.py)

    def folder(self, warehouse: PostgresResource) -> Path:
        return Path(self.root or default_root()) / warehouse.dbname / DATASET


def schema() -> dict[str, pl.DataType]:
    return {name: dtype for name, (dtype, _) in COLUMNS.items()}


def read_days(conn, days: DayRange, where: str = _OF_DAYS) -> pl.DataFrame:
    """The rows of ``days`` (``where``: those of the predictions to recompute), sorted by
    prediction (frames.py: streamed as CSV, a third of the time of fetching Python rows)."""
    return read_frame(conn, _ROWS.format(where=where), {"day_keys": days.day_keys()}, schema()).sort("prediction_id")


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


def _write_day(folder: Path, day: date, part: pl.DataFrame) -> dict:
    """The day's file from its rows (sorted by prediction); its manifest entry."""
    data = parquet_bytes(part)
    _write_atomically(folder / file_name(day), data)
    return {"file": file_name(day), "rows": part.height, "labelled": int(part["label"].is_not_null().sum()),
            "sha256": hashlib.sha256(data).hexdigest()}


def write_files(folder: Path, frame: pl.DataFrame, days: DayRange) -> dict[str, dict]:
    """One file per day of ``days`` (an empty one for a day without predictions); returns the
    manifest's entries for them."""
    folder.mkdir(parents=True, exist_ok=True)
    return {day.isoformat(): _write_day(folder, day, frame.filter(pl.col("prediction_date") == day))
            for day in days.days()}


def patch_files(conn, folder: Path, days: DayRange) -> dict[str, dict]:
    """Rewrite the files of ``days``: the rows of the predictions in ``affected`` and ``exact``
    (plan) leave, those predictions' rows as they are now enter; every other row stays as it
    was. Sorted as a rebuild sorts, so a patched file has a rebuilt file's bytes."""
    fresh = read_days(conn, days, _AFFECTED_OF_DAYS)
    leaving = pl.Series([r[0] for r in conn.execute(_LEAVING, {"day_keys": days.day_keys()})], dtype=pl.String)
    written = {}
    for day in days.days():
        kept = pl.read_parquet(folder / file_name(day)).filter(~pl.col("prediction_id").is_in(leaving.implode()))
        part = pl.concat([kept, fresh.filter(pl.col("prediction_date") == day)]).sort("prediction_id").rechunk()
        written[day.isoformat()] = _write_day(folder, day, part)
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


# The queue's entries (merge.py): "p:<prediction_id>:<YYYYMMDD>", a prediction the fact merged,
# as it was and as it is; ">YYYYMMDD:<dim_citizen|dim_scheme>:<natural key>", a member whose
# predictions' rows may differ from that IST day on. Entries queued by earlier versions,
# "YYYYMMDD" and ">YYYYMMDD", still rebuild whole days.
_MERGED = """
CREATE TEMP TABLE exact ON COMMIT DROP AS
SELECT DISTINCT split_part(k, ':', 2)::uuid AS prediction_id, split_part(k, ':', 3)::integer AS day_key
FROM merging WHERE k LIKE 'p:%'
"""
_MEMBERS = """
CREATE TEMP TABLE since_member ON COMMIT DROP AS
SELECT split_part(k, ':', 2) AS dim, split_part(k, ':', 3)::uuid AS id, min(substr(k, 2, 8)::integer) AS day_key
FROM merging WHERE k ~ '^>[0-9]{8}:' GROUP BY 1, 2
"""
_POINT_IN_TIME = ("dim_citizen", "dim_scheme")
# The predictions to recompute, on the day each is on now.
_AFFECTED = """
INSERT INTO affected
SELECT p.prediction_id, p.prediction_date_key FROM public.fact_eligibility_scoring p
WHERE p.prediction_id IN (SELECT e.prediction_id FROM exact e)
UNION
SELECT p.prediction_id, p.prediction_date_key FROM public.fact_eligibility_scoring p
JOIN public.dim_citizen pc ON pc.citizen_key = p.citizen_key
JOIN since_member m ON m.dim = 'dim_citizen' AND m.id = pc.citizen_id AND p.prediction_date_key >= m.day_key
UNION
SELECT p.prediction_id, p.prediction_date_key FROM public.fact_eligibility_scoring p
JOIN public.dim_scheme ps ON ps.scheme_key = p.scheme_key
JOIN since_member m ON m.dim = 'dim_scheme' AND m.id = ps.scheme_id AND p.prediction_date_key >= m.day_key
"""
_PATCHED = """
SELECT to_date(d::text, 'YYYYMMDD'), count(a.prediction_id) FROM (
    SELECT day_key FROM affected UNION SELECT day_key FROM exact) days (d)
LEFT JOIN affected a ON a.day_key = days.d GROUP BY 1
"""
# The rows that leave a patched day's file (those of its recomputed predictions enter again).
_LEAVING = """
SELECT prediction_id::text FROM affected WHERE day_key = ANY(%(day_keys)s)
UNION SELECT prediction_id::text FROM exact WHERE day_key = ANY(%(day_keys)s)
"""


@dataclass(frozen=True)
class Rewrite:
    """What a change-driven run writes: days built from all their predictions, and days whose
    files it patches (patch_files), with the predictions recomputed per patched day."""

    whole: DayRange
    patched: DayRange
    recomputed: dict[date, int]

    @property
    def days(self) -> DayRange:
        return DayRange.of((*self.whole.days(), *self.patched.days()), self.whole.last)


def plan(conn, folder: Path, run_days: DayRange, *, replacing: bool = False) -> Rewrite:
    """In a change-driven run, which rows may differ: the predictions the fact merged (their
    label, application or own values changed, or they were removed or moved to another day),
    and the predictions of each queued member from its day on (an applicant's submission or
    decision, a citizen's or scheme's new version: nothing stamped before it can change). Their
    days are patched; a day the folder does not have yet, and the run's days it lacks, are
    built whole. ``replacing``: a range run, which builds its days whole and patches the days
    outside them the folder has (a backfill of earlier days queued its applicants, merge.py);
    a day the folder lacks waits for its own build. Takes the queue inside ``conn``'s
    transaction (a failure leaves it queued)."""
    take(conn, ASSET, "text")
    legacy, legacy_since = set(), None
    for (key,) in conn.execute(r"SELECT k FROM merging WHERE k ~ '^>?[0-9]{8}$'"):
        day = datetime.strptime(key.lstrip(">"), "%Y%m%d").date()
        if key.startswith(">"):
            legacy_since = day if legacy_since is None else min(legacy_since, day)
        else:
            legacy.add(day)
    conn.execute(_MERGED)
    conn.execute(_MEMBERS)
    unknown = [d for (d,) in conn.execute("SELECT DISTINCT dim FROM since_member") if d not in _POINT_IN_TIME]
    if unknown:
        raise ValueError(f"{ASSET}: queued changes of {unknown}, which it does not read; "
                         f"it reads {list(_POINT_IN_TIME)}")
    conn.execute("CREATE TEMP TABLE affected (prediction_id uuid PRIMARY KEY, day_key integer NOT NULL) ON COMMIT DROP")
    conn.execute(_AFFECTED)
    conn.execute("ANALYZE affected")
    touched = dict(conn.execute(_PATCHED).fetchall())
    built = {d for d in _manifest_days(folder) if (folder / file_name(d)).exists()}
    if replacing:
        whole = set(run_days.days()) | (legacy & built)
        touched = {d: n for d, n in touched.items() if d in built}
    else:
        whole = legacy | (set(run_days.days()) - built) | (set(touched) - built)
    if legacy_since is not None:
        whole |= {d for d in built if d >= legacy_since}
    patched = {d: n for d, n in touched.items() if d not in whole}
    return Rewrite(DayRange.of(whole, run_days.last), DayRange.of(patched, run_days.last), patched)


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
            conn.execute("SET LOCAL jit = off")  # compiling the query per chunk costs more than it saves
            if merging:
                rewrite = plan(conn, folder, day_range(context))
                days = rewrite.days
                batch.merged_days = set(days.days())
                batch.judged = days
            else:
                rewrite = plan(conn, folder, days, replacing=True)
                batch.followed = set(rewrite.patched.days())
            written: dict[str, dict] = {}
            for chunk in chunks(conn, rewrite.whole):
                written |= write_files(folder, read_days(conn, chunk), chunk)
            for chunk in day_groups(rewrite.patched, rewrite.recomputed) if rewrite.recomputed else ():
                written |= patch_files(conn, folder, chunk)
            write_manifest(folder, written)
            for day, entry in written.items():
                n = entry["rows"]
                read = rewrite.recomputed.get(date.fromisoformat(day), n)  # a patched day reads its changed rows
                batch.per_day[date.fromisoformat(day)] = DayFigures(extracted=read, loaded=n, in_partition=n)
            batch.rows_extracted = sum(f.extracted for f in batch.per_day.values())
            batch.rows_loaded = sum(e["rows"] for e in written.values())
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
