"""How every warehouse asset is built: one table, its load, its checks, its retry rules.

Each asset is a multi_asset of one table with ``can_subset``: a run that selects only the
checks (the UI's "Execute checks", ``smart-warehouse check``) judges the current table
without loading it. A run that loads judges what it just wrote, in the same step, so a
failed ERROR check stops the downstream assets of that run. The checks are judged before
the materialization is reported, so each day's event names that day's failed checks.

Its resources are typed parameters of the asset function (``warehouse``, ``quality``, the
portals it reads as ``<portal>_db``, and any the load names), so the UI lists exactly the
databases each asset uses; the load receives them as keyword arguments.

Transient database trouble (a dropped connection, a server restarting) is retried with
backoff; a permanent one (no such database or table, a permission, a wrong password)
fails at once with what to fix.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import dagster as dg
import psycopg

from smart_warehouse_assets.batches import Batch, in_run
from smart_warehouse_assets.partition_metadata import attach
from smart_warehouse_assets.partitions import DayRange, InvalidPartition, daily_partitions, day_range
from smart_warehouse_assets.quality.record import check_results, judge
from smart_warehouse_assets.quality.spec import Check, CheckScope, QualityThresholds
from smart_warehouse_assets.resources import DatabaseUnavailable, PostgresResource, portal_key, with_resource_params
from smart_warehouse_assets.settings import redact

OWNER = "team:data-platform"
CODE_VERSION = "1"
RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# SQLSTATE classes and codes that no retry can fix.
_PERMANENT = {
    "3D000": "the database does not exist: check the SMART_*_URL setting",
    "42P01": "a table is missing: run `smart-warehouse db up` to apply migrations",
    "42703": "a column is missing: the schema differs from the migrations; run `smart-warehouse db up`",
    "42501": "permission denied: grant the ETL role the privileges in sql/ (see the README's security model)",
    "28P01": "the password was rejected: check PGPASSWORD or ~/.pgpass",
    "28000": "the role may not log in: check PGUSER and pg_hba.conf",
}


@dataclass(frozen=True)
class LoadResult:
    """What one load wrote: its batch (totals, and each day's figures when partitioned), the
    metadata of the materialization as a whole, and ``latest``: metadata about the asset
    rather than its rows (column lineage), which a range run puts on its last day's event
    only, the asset's latest materialization, instead of serializing it once per day (363
    times in a load of every day)."""

    batch: Batch
    metadata: dict
    latest: dict = field(default_factory=dict)


# (context, the days this asset reloads or None, *, warehouse=, [portals=], [its own resources]) -> what it wrote
LoadFn = Callable[..., LoadResult]


def _explain(exc: Exception, key: dg.AssetKey) -> Exception:
    """A permanent database error becomes a Failure that is not retried; others pass through."""
    if isinstance(exc, InvalidPartition):  # a bad partition key or range stays bad
        return dg.Failure(description=f"{key.to_user_string()}: {exc}", allow_retries=False)
    if isinstance(exc, DatabaseUnavailable):
        text = exc.description or ""
        if "does not exist" in text or "password" in text or "role" in text:
            return dg.Failure(description=text, allow_retries=False)
        return exc
    code = getattr(exc, "sqlstate", None)
    if isinstance(exc, psycopg.Error) and code in _PERMANENT:
        return dg.Failure(
            description=f"{key.to_user_string()}: {_PERMANENT[code]} ({redact(str(exc)).strip()})",
            allow_retries=False,
        )
    return exc


def warehouse_asset(
    *,
    key: dg.AssetKey,
    description: str,
    group: str,
    deps: list[dg.AssetKey],
    checks: list[Check],
    load: LoadFn,
    metadata: dict,
    partitioned: bool = False,
    kinds: frozenset[str] = frozenset({"postgres"}),
    reads: tuple[str, ...] = (),
    resources: Mapping[str, type[dg.ConfigurableResource]] | None = None,
    tags: dict[str, str] | None = None,
    freshness_policy: dg.FreshnessPolicy | None = None,
) -> dg.AssetsDefinition:
    """One table as an asset. ``reads`` names the portals the load reads (it gets them as
    ``portals={portal: database}``); ``resources`` any other typed resources it takes by name."""
    own = dict(resources or {})
    portals = tuple(dict.fromkeys((*reads, *(p for c in checks for p in c.needs_portals))))
    declared = {
        "warehouse": PostgresResource,
        "quality": QualityThresholds,
        **{portal_key(p): PostgresResource for p in portals},
        **own,
    }
    spec = dg.AssetSpec(
        key=key,
        deps=deps,
        description=description,
        group_name=group,
        kinds=set(kinds),
        owners=[OWNER],
        code_version=CODE_VERSION,
        tags={"layer": group, **(tags or {})},
        metadata=metadata,
        freshness_policy=freshness_policy,
    )

    @dg.multi_asset(
        name=key.to_python_identifier(),
        specs=[spec],
        check_specs=[c.spec(key) for c in checks],
        can_subset=True,
        partitions_def=daily_partitions if partitioned else None,
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        retry_policy=RETRY,
    )
    @with_resource_params(declared)
    def _asset(context: dg.AssetExecutionContext, **given):
        try:
            warehouse: PostgresResource = given["warehouse"]
            days = day_range(context, key) if partitioned and context.has_partition_key_range else None
            loaded = None
            if key in context.selected_asset_keys:
                extra = {"portals": {p: given[portal_key(p)] for p in reads}} if reads else {}
                loaded = load(context, days, warehouse=warehouse, **extra, **{name: given[name] for name in own})
            merged = loaded is not None and loaded.batch.judged is not None  # a row-level merge (merge.py)
            if merged:  # judged on the days it touched, its row checks on its rows
                days = loaded.batch.judged
            scope = CheckScope(
                warehouse=warehouse,
                portals={p: given[portal_key(p)] for p in portals},
                days=days,
                thresholds=given["quality"],
                rows_of_batch=loaded.batch.batch_id if merged else None,
            )
            verdicts = judge(context, checks, scope, key, loaded.batch.batch_id if loaded else None)
            if loaded is not None:
                metadata = loaded.metadata
                if days is not None and in_run(context):  # a direct call records no event to carry it
                    run_days = day_range(context)
                    attach(context, key, run_days, days, loaded.batch, verdicts)
                    if loaded.latest:
                        context.add_asset_metadata(loaded.latest, asset_key=key,
                                                   partition_key=run_days.last.isoformat())
                else:
                    metadata = metadata | loaded.latest
                yield dg.MaterializeResult(asset_key=key, metadata=metadata)
            yield from check_results(context, key, scope, verdicts)
        except Exception as exc:
            explained = _explain(exc, key)
            if explained is exc:
                raise
            raise explained from None

    return _asset
