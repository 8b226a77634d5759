"""The data dictionary: ``docs/data-dictionary.md``, generated from the warehouse DDL.

Every table, its grain and every column's meaning come from the COMMENT ON statements in
``sql/warehouse`` (read by :mod:`smart_warehouse_assets.catalog`, the same reader that
gives the Dagster UI its column schemas); the owning Dagster asset comes from the code
location. Nothing here is written by hand, so the page cannot drift from the DDL:

    python -m smart_warehouse_assets.docs            # rewrite docs/data-dictionary.md
    python -m smart_warehouse_assets.docs --check    # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from smart_warehouse_assets.catalog import Table, warehouse_tables
from smart_warehouse_assets.migrations import migration_files
from smart_warehouse_assets.paths import PROJECT_ROOT, SQL_ROOT

DICTIONARY_PATH = PROJECT_ROOT / "docs" / "data-dictionary.md"
REGENERATE = "python -m smart_warehouse_assets.docs"

_SCHEMA_COMMENT = re.compile(r"COMMENT ON SCHEMA (\w+) IS '((?:[^']|'')*)';")
# Reading order within a schema: dimensions, facts, the aggregate, then ETL control.
_ORDER = ("dim_", "fact_", "agg_", "etl_")
_SCHEMAS = {
    "public": "The star schema analysts query: conformed dimensions, daily facts, the daily "
              "aggregate and the ETL control tables that say how and when each row was loaded.",
}


@dataclass(frozen=True)
class AssetInfo:
    key: str
    group: str
    partitioned: bool
    kind: str  # materialized | recorded by every load


def owning_assets() -> dict[str, AssetInfo]:
    """Qualified table name -> the Dagster asset that owns it, from the code location."""
    from smart_warehouse_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    out = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        table_name = node.metadata.get("dagster/table_name")
        if not isinstance(table_name, str) or not table_name.startswith("smart_warehouse."):
            continue
        out[table_name.removeprefix("smart_warehouse.")] = AssetInfo(
            key=key.to_user_string(),
            group=node.group_name or "default",
            partitioned=node.partitions_def is not None,
            kind="materialized" if node.is_materializable else "written by every load",
        )
    return out


def column_lineage() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Per fact and aggregate table: column -> the (asset, column) pairs it is computed from,
    the same lineage each run's latest materialization records as ``dagster/column_lineage``."""
    from smart_warehouse_assets.aggregates.daily_applications import AGG_DAILY_APPLICATIONS
    from smart_warehouse_assets.facts.application_processing import FACT_APPLICATION_PROCESSING
    from smart_warehouse_assets.facts.eligibility_scoring import FACT_ELIGIBILITY_SCORING
    from smart_warehouse_assets.facts.service_applications import FACT_SERVICE_APPLICATIONS

    loads = (FACT_SERVICE_APPLICATIONS, FACT_APPLICATION_PROCESSING, FACT_ELIGIBILITY_SCORING, AGG_DAILY_APPLICATIONS)
    return {f"public.{load.table}": load.lineage for load in loads}


def _schema_comments() -> dict[str, str]:
    out = dict(_SCHEMAS)
    for migration in migration_files(SQL_ROOT / "warehouse"):
        for name, comment in _SCHEMA_COMMENT.findall(migration.path.read_text()):
            out[name] = comment.replace("''", "'")
    return out


def _sort_key(item: tuple[int, Table]) -> tuple:
    position, table = item
    schema, name = table.name.split(".", 1)
    rank = next((i for i, prefix in enumerate(_ORDER) if name.startswith(prefix)), len(_ORDER))
    return (schema != "public", rank, position)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _without_grain(description: str) -> str:
    """The table comment minus its "Grain: ..." sentence, shown on a line of its own."""
    return " ".join(re.sub(r"\s*Grain: [^.]+(?:\.\d[^.]*)?\.", "", description).split())


def _anchor(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "", name.lower().replace(" ", "-"))


def _asset_line(info: AssetInfo | None) -> str:
    if info is None:
        return "none: not a Dagster asset of its own"
    partitioning = "partitioned by IST day" if info.partitioned else "unpartitioned"
    return f"`{info.key}` in group `{info.group}`, {partitioning}, {info.kind}"


def render(assets: dict[str, AssetInfo] | None = None) -> str:
    """The whole page as Markdown (deterministic: same DDL and assets, same bytes)."""
    assets = owning_assets() if assets is None else assets
    lineage = column_lineage()
    tables = [t for _, t in sorted(enumerate(warehouse_tables().values()), key=_sort_key)]
    schemas = _schema_comments()
    out = [
        "# Data dictionary — `smart_warehouse`",
        "",
        "<!-- Generated from the COMMENT ON statements in sql/warehouse/ by "
        f"`{REGENERATE}`. Do not edit by hand: change the DDL comments and regenerate. -->",
        "",
        "Every table of the warehouse database, its grain (what one row is) and what each column "
        "means, generated from the comments in the DDL under `sql/warehouse/` — the same comments "
        "the Dagster UI shows as each asset's column schema. The data contract "
        "([contract.md](contract.md)) fixes the names; the guide for analysts is "
        "[analysts.md](analysts.md).",
        "",
        "Conventions: surrogate keys are `bigint` and named `<dimension>_key`; key `-1` is the "
        "unknown member of every dimension; `date_key` columns are integers `YYYYMMDD` (`-1` for a "
        "date that is unknown or has not happened); SCD Type 2 dimensions keep half-open "
        "`[valid_from, valid_to)` versions with `valid_to = 9999-12-31` and `is_current` on the "
        "open one; every loaded row carries the `etl_batch_id` of the `etl_batches` row that wrote it. "
        "For the facts and the aggregate, the last column names the upstream asset columns each "
        "column is computed from — the column lineage every load records in Dagster.",
        "",
        "## Tables",
        "",
        "| table | grain | Dagster asset |",
        "|---|---|---|",
    ]
    for t in tables:
        info = assets.get(t.name)
        out.append(f"| [`{t.name}`](#{_anchor(t.name)}) | {_cell(t.grain) or '—'} | "
                   f"{f'`{info.key}`' if info else '—'} |")
    out.append("")
    schema = None
    for t in tables:
        this_schema = t.name.split(".", 1)[0]
        if this_schema != schema:
            schema = this_schema
            out += [f"## Schema `{schema}`", ""]
            if schemas.get(schema):
                out += [_cell(schemas[schema]), ""]
        out += [
            f"### `{t.name}`",
            "",
            _cell(_without_grain(t.description)) or "(no comment in the DDL)",
            "",
            f"- **Grain:** {_cell(t.grain) or '—'}",
            f"- **Dagster asset:** {_asset_line(assets.get(t.name))}",
            f"- **Defined in:** `sql/{t.source}`",
            "",
        ]
        lineage_of = lineage.get(t.name)
        if lineage_of is None:
            out += ["| column | type | null | meaning |", "|---|---|---|---|"]
        else:
            out += ["| column | type | null | meaning | computed from (column lineage) |", "|---|---|---|---|---|"]
        for c in t.columns.values():
            name = f"**`{c.name}`**" if c.primary_key else f"`{c.name}`"
            null = "key" if c.primary_key else ("no" if c.not_null else "yes")
            row = f"| {name} | `{c.type}` | {null} | {_cell(c.description) or '—'} |"
            if lineage_of is not None:
                sources = ", ".join(f"`{asset}`.`{column}`" for asset, column in lineage_of.get(c.name, []))
                row += f" {sources or '—'} |"
            out.append(row)
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smart_warehouse_assets.docs", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page differs from the DDL instead of writing it")
    parser.add_argument("--output", type=Path, default=DICTIONARY_PATH)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date with sql/warehouse: run `{REGENERATE}`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(warehouse_tables())} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
