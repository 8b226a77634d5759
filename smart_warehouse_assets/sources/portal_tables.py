"""The portal tables of the registry, as upstream assets grouped per portal.

Each portal gets one observation that records, per table, its row count and latest
``updated_at``; the pair is the table's data version, so the UI shows when a source moved
on since the warehouse last read it.
"""


import dagster as dg
from psycopg import sql

from smart_warehouse_assets.asset_factory import OWNER
from smart_warehouse_assets.resources import PostgresResource, portal_key, with_resource_params
from smart_warehouse_assets.settings import DATABASES
from smart_warehouse_assets.sources.registry import REGISTRY, PortalTable

GROUPS = {"citizen": "citizen_portal", "dept": "dept_portal", "aiml": "aiml_portal", "monitor": "monitor_portal"}


def _spec(entry: PortalTable) -> dg.AssetSpec:
    db = DATABASES[entry.portal]
    return dg.AssetSpec(
        key=entry.key,
        description=f"{entry.description} Table public.{entry.table} of the {db.name} portal database.",
        group_name=GROUPS[entry.portal],
        kinds={"postgres"},
        owners=[OWNER],
        tags={"data_centre": db.data_centre, "layer": "source"},
        metadata={"dagster/table_name": f"{db.name}.public.{entry.table}"},
    )


_OBSERVE = "SELECT count(*), max(updated_at) FROM public.{}"


def _observer(portal: str) -> dg.AssetsDefinition:
    entries = [e for e in REGISTRY if e.portal == portal]
    specs = [_spec(e) for e in entries]
    database = portal_key(portal)

    @dg.multi_observable_source_asset(
        name=f"observe_{DATABASES[portal].name}",
        specs=specs,
        description=f"Row count and latest updated_at of the {DATABASES[portal].name} tables the warehouse reads.",
    )
    @with_resource_params({database: PostgresResource})
    def observe(context, **given: PostgresResource):
        with given[database].connect() as conn:
            for entry in entries:
                count, latest = conn.execute(sql.SQL(_OBSERVE).format(sql.Identifier(entry.table))).fetchone()
                yield dg.ObserveResult(
                    asset_key=entry.key,
                    data_version=dg.DataVersion(f"{count}@{latest.isoformat() if latest else '-'}"),
                    metadata={
                        "dagster/row_count": count,
                        "latest_updated_at": dg.MetadataValue.text(latest.isoformat() if latest else "none"),
                    },
                )

    return observe


portal_observers = [_observer(portal) for portal in dict.fromkeys(e.portal for e in REGISTRY)]
