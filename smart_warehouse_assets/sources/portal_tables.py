"""The portal tables the warehouse reads, as upstream assets grouped per portal.

Each portal gets one observation that records, per table, its row count and latest
``updated_at``; the pair is the table's data version, so the UI shows when a source moved
on since the warehouse last read it.
"""


import dagster as dg
from psycopg import sql

from smart_warehouse_assets.asset_factory import OWNER
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.settings import DATABASES

# portal key -> {table: description}
PORTAL_TABLES: dict[str, dict[str, str]] = {
    "citizen": {
        "citizens": "Registered citizens (holds personal data; the warehouse reads only non-personal columns).",
        "schemes": "Government schemes citizens can apply for, each owned by a department code.",
        "service_applications": "Applications for schemes and their lifecycle (draft to decision).",
    },
    "dept": {
        "departments": "Departments and offices as a hierarchy (state, department, district office).",
        "processing_actions": "Steps officers take on applications, in order.",
    },
    "aiml": {
        "ml_models": "Registered ML models and their versions.",
        "predictions": "Model predictions; the eligibility-scoring ones feed the warehouse.",
    },
}
GROUPS = {"citizen": "citizen_portal", "dept": "dept_portal", "aiml": "aiml_portal", "monitor": "monitor_portal"}


def source_key(portal: str, table: str) -> dg.AssetKey:
    return dg.AssetKey([DATABASES[portal].name, table])


def _spec(portal: str, table: str, description: str) -> dg.AssetSpec:
    db = DATABASES[portal]
    return dg.AssetSpec(
        key=source_key(portal, table),
        description=f"{description} Table public.{table} of the {db.name} portal database.",
        group_name=GROUPS[portal],
        kinds={"postgres"},
        owners=[OWNER],
        tags={"data_centre": db.data_centre, "layer": "source"},
        metadata={"dagster/table_name": f"{db.name}.public.{table}"},
    )


_OBSERVE = "SELECT count(*), max(updated_at) FROM public.{}"


def _observer(portal: str) -> dg.AssetsDefinition:
    specs = [_spec(portal, t, d) for t, d in PORTAL_TABLES[portal].items()]
    resource_key = f"{portal}_db"

    @dg.multi_observable_source_asset(
        name=f"observe_{DATABASES[portal].name}",
        specs=specs,
        required_resource_keys={resource_key},
        description=f"Row count and latest updated_at of the {DATABASES[portal].name} tables the warehouse reads.",
    )
    def observe(context):
        db: PostgresResource = getattr(context.resources, resource_key)
        with db.connect() as conn:
            for table in PORTAL_TABLES[portal]:
                count, latest = conn.execute(sql.SQL(_OBSERVE).format(sql.Identifier(table))).fetchone()
                yield dg.ObserveResult(
                    asset_key=source_key(portal, table),
                    data_version=dg.DataVersion(f"{count}@{latest.isoformat() if latest else '-'}"),
                    metadata={
                        "dagster/row_count": count,
                        "latest_updated_at": dg.MetadataValue.text(latest.isoformat() if latest else "none"),
                    },
                )

    return observe


portal_observers = [_observer(portal) for portal in PORTAL_TABLES]
