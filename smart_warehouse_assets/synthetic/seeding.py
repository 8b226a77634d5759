"""``seed``: fill the four portal databases with a synthetic, reproducible world.

The world is built column by column with numpy, block by block (one random stream per
table and block), and each block is bulk-loaded with binary COPY as it is made, so memory
stays bounded whatever the scale and the number of days. Every id and timestamp derives
from the seed and the period start, so two runs with the same arguments produce the same
bytes in every table.

The world, in short: citizens register (most before the period), apply to schemes on
working days, the application is routed to the office of the scheme's department in the
citizen's district, officers act on it step by step, and a decision follows days to weeks
later (sometimes after the scheme's SLA). An eligibility model scores each submission.
Monitoring records the platform's health. A small, exactly counted share of rows is
made dirty in known ways and listed in the manifest.

This module holds the entry points and the order the tables are built in; the builders
of each portal's tables live in ``citizen``, ``applications``, ``dept``, ``aiml`` and
``monitor``, the dirty rows in ``dirty``, the rules they share with ``simulate`` in
``rules``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

from psycopg import sql

from smart_warehouse_assets.synthetic.aiml import AimlTables
from smart_warehouse_assets.synthetic.applications import ApplicationTables
from smart_warehouse_assets.synthetic.citizen import CitizenTables
from smart_warehouse_assets.synthetic.core import (
    PORTALS, PRIMARY_KEYS, TABLES, PortalsHoldData, SyntheticDataError, connect, ist_today,
)
from smart_warehouse_assets.synthetic.dept import DeptTables
from smart_warehouse_assets.synthetic.dirty import DirtyRows, dirty_manifest
from smart_warehouse_assets.synthetic.loading import DatabaseLoad
from smart_warehouse_assets.synthetic.monitor import MonitorTables
from smart_warehouse_assets.synthetic.rules import ELIGIBILITY
from smart_warehouse_assets.synthetic.world import APPLICATION_BLOCK, Period, World


class Builder(Period, DeptTables, CitizenTables, ApplicationTables, DirtyRows, AimlTables, MonitorTables):
    """Builds the whole world, block by block, in an order that respects what each block reads.

    Each block of each table is handed to the loader as soon as it is made (``World.put``)
    and then dropped: what is kept between blocks is the small state later blocks read
    (per citizen, office, officer, scheme and model a few numbers, and running counts).
    """

    def build(self, use_case_codes: list[str]) -> World:
        """Every table of the four portals, for the given use cases' models."""
        self.use_case_codes = use_case_codes
        # The organisation, the schemes, the models and the plan of the period.
        self.departments()
        self.designations()
        self.dept_users()
        self.schemes()
        self.workflows()
        self.dirty_schemes()
        self.scheme_audit_log()
        self.models()
        self.plan_batch_jobs()
        self.system_components()
        self.alert_rules()
        self.plan_monitoring()
        self.plan_applications()
        self.plan_dirty_applications()
        self.plan_dashboard()
        # The people.
        self.citizens()
        # The applications and everything that follows from them, block by block, beside
        # the monitoring of the same days.
        for b in range(self.n_app_blocks):
            self.block_streams(APPLICATION_BLOCK, b)
            self.applications(b)
            self.dirty_applications(b)
            self.history()
            self.actions()
            self.assignments()
            self.documents()
            self.document_verifications()
            self.notifications()
            self.payments()
            self.feedback()
            self.audit_log()
            self.dept_notifications()
            self.count_dashboard()
            self.predictions()
            self.monitor_until(self.app_block_last_day(b))
        self.finish_monitoring()
        for db, table in (("citizen", "service_applications"), ("citizen", "application_status_history"),
                          ("citizen", "documents"), ("citizen", "notifications"), ("citizen", "payments"),
                          ("citizen", "feedback"), ("citizen", "audit_log"), ("dept", "application_assignments"),
                          ("dept", "document_verifications"), ("dept", "dept_notifications")):
            self.world.close(db, table)
        self.orphan_actions()
        self.orphan_predictions()
        self.batch_prediction_jobs()
        self.dashboard_metrics()
        self.dept_audit_log()
        self.ml_operations()
        self.admins()
        del self.app, self.docs, self.app_frame
        return self.world


_EXISTING_ROWS = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT 1) AS t")


def _check_empty(urls: Mapping[str, str], replace: bool) -> list[str]:
    """Names of portal tables that already hold rows."""
    busy = []
    for db in PORTALS:
        with connect(urls[db]) as conn:
            for table in TABLES[db]:
                if conn.execute(_EXISTING_ROWS.format(sql.Identifier(table))).fetchone()[0]:
                    busy.append(f"{db}.{table}")
    return busy


def _use_case_codes(url: str) -> list[str]:
    """The use cases the migration seeded (their models are generated)."""
    with connect(url) as conn:
        codes = [r[0] for r in conn.execute("SELECT use_case_code FROM ml_use_cases ORDER BY use_case_code")]
    if ELIGIBILITY not in codes:
        raise SyntheticDataError("smart_aiml.ml_use_cases lacks ELIGIBILITY_SCORING: run the migrations first")
    return codes


def seed(urls: Mapping[str, str], *, seed: int = 20260401, scale: float = 1.0, start: date | None = None,
         days: int = 90, bad_rate: float = 0.002, manifest_path: Path | None = None,
         log: Callable[[str], None] = print, replace: bool = False) -> dict:
    """Fill the four (migrated, empty) portal databases with a reproducible synthetic world.

    ``start=None`` means the ``days`` days ending yesterday in Asia/Kolkata. Refuses to
    write into portals that already hold rows unless ``replace=True``, which truncates the
    portal tables first. Returns the manifest (and writes it as JSON to ``manifest_path``).
    """
    missing = [k for k in PORTALS if k not in urls]
    if missing:
        raise SyntheticDataError(f"missing portal URL(s): {', '.join(missing)}")
    if start is None:
        start = ist_today() - timedelta(days=days)
    busy = _check_empty(urls, replace)
    if busy and not replace:
        raise PortalsHoldData(
            f"the portals already hold data ({', '.join(busy[:4])}{'...' if len(busy) > 4 else ''}); "
            "seed refuses to mix worlds - pass replace=True to truncate the portal tables first")
    codes = _use_case_codes(urls["aiml"])
    t0 = time.perf_counter()
    log(f"generating: seed={seed} scale={scale} start={start} days={days} bad_rate={bad_rate}")
    # Each database loads in its own thread and transaction while the world is being made:
    # each block is copied in as it comes, a table indexed as soon as it is final.
    loads = {db: DatabaseLoad(urls[db], TABLES[db], log=log, label=db).start() for db in PORTALS}
    try:
        builder = Builder(seed=seed, scale=scale, start=start, days=days, bad_rate=bad_rate)
        builder.world.sink = lambda db, table, df: loads[db].put(table, df)
        builder.world.closer = lambda db, table: loads[db].close(table)
        world = builder.build(codes)
        t_gen = time.perf_counter() - t0
        total = sum(n for tables in world.rows.values() for n in tables.values())
        log(f"generated {total:,} rows in {t_gen:.1f} s")
        for load in loads.values():
            load.ready()
    except BaseException:
        for load in loads.values():
            load.abort()
        raise
    for load in loads.values():
        load.commit()
    elapsed = time.perf_counter() - t0
    t_load = elapsed - t_gen
    log(f"loaded {total:,} rows; total {elapsed:.1f} s ({total / elapsed:,.0f} rows/s)")
    manifest = _manifest(world, seed=seed, scale=scale, start=start, days=days, bad_rate=bad_rate)
    manifest["timing"] = {"generate_s": round(t_gen, 2), "load_after_generate_s": round(t_load, 2),
                          "total_s": round(elapsed, 2), "rows": total, "rows_per_s": round(total / elapsed)}
    if manifest_path is not None:
        Path(manifest_path).parent.mkdir(parents=True, exist_ok=True)
        Path(manifest_path).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


_IDS_PRESENT = sql.SQL("SELECT count(*) FROM {} WHERE {} = ANY(%s::uuid[])")


def world_mismatch(urls: Mapping[str, str], manifest: dict | None, *, seed: int, scale: float,
                   days: int, bad_rate: float) -> str | None:
    """Why the portals do not hold the world ``seed`` would make with these settings, or None.

    The manifest must ask for the same world, and the portals must still hold it: at least
    its row count in every table (``simulate`` only adds) and every dirty row it planted —
    ids drawn from the seed, so another world's rows do not pass for this one.
    """
    if not manifest:
        return "no seed manifest describes them"
    asked = {"seed": seed, "scale": scale, "days": days, "bad_rate": bad_rate}
    differs = [f"{k} {manifest.get(k)} (asked {v})" for k, v in asked.items() if manifest.get(k) != v]
    if differs:
        return "they were seeded with " + ", ".join(differs)
    with ExitStack() as stack:  # one connection per portal, not one per table
        conns = {db: stack.enter_context(connect(urls[db])) for db in PORTALS}
        for name, rows in manifest.get("rows", {}).items():
            db, table = name.split(".")
            held = conns[db].execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
            if held < rows:
                return f"{name} holds {held:,} rows, the seeded world has {rows:,}"
        for kind, planted in manifest.get("dirty", {}).items():
            db, table = planted["table"].split(".")
            query = _IDS_PRESENT.format(sql.Identifier(table), sql.Identifier(PRIMARY_KEYS[table]))
            found = conns[db].execute(query, (planted["ids"],)).fetchone()[0]
            if found != len(planted["ids"]):
                return f"{planted['table']} lacks {len(planted['ids']) - found} of the seed's {kind} rows"
    return None


def _manifest(world: World, *, seed: int, scale: float, start: date, days: int, bad_rate: float) -> dict:
    """What was seeded: the settings, the rows per table and the dirty rows planted."""
    rows = {f"{db}.{t}": n for db in PORTALS for t, n in world.rows[db].items()}
    return {"seed": seed, "scale": scale, "start": start.isoformat(), "days": days, "bad_rate": bad_rate,
            "rows": rows, "dirty": dirty_manifest(world)}
