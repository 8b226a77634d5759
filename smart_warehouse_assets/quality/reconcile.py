"""Reconciliation: per day, the portal's rows equal the rows loaded plus the rows quarantined.

The portal is counted in its own database (no cross-database join); the warehouse side
counts the fact and staging.rejected_rows for the same IST days. Where the two differ, the
missing or extra keys of that day are fetched from both sides, so the verdict names them.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from psycopg import sql

from smart_warehouse_assets.partitions import DayRange
from smart_warehouse_assets.quality.spec import ERROR, Check, CheckScope, Observation
from smart_warehouse_assets.sources.registry import PortalTable, Reconcile


_SOURCE = """
SELECT ({event} AT TIME ZONE 'Asia/Kolkata')::date, count(*), coalesce(sum({amount}), 0)
FROM public.{table} t
WHERE {grain} AND {event} >= %(start)s AND {event} < %(end)s GROUP BY 1
"""
# The scattered days of a row-level merge: each run of days is its own scan of the event
# index. As a plain join the planner took the unnest for ten rows and tested every source row
# against every window (scale 10, 538,145 predictions x 92 days: 3.1 s); OFFSET 0 keeps the
# subquery a scan per window (46 windows: 0.9 s, as one range over the same rows).
_SOURCE_DAYS = """
SELECT (x.event AT TIME ZONE 'Asia/Kolkata')::date, count(*), coalesce(sum(x.amount), 0)
FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) w (s, e)
CROSS JOIN LATERAL (SELECT {event} AS event, {amount} AS amount FROM public.{table} t
                    WHERE {grain} AND {event} >= w.s AND {event} < w.e OFFSET 0) x
GROUP BY 1
"""
_LOADED = """
SELECT to_date({dk}::text, 'YYYYMMDD'), count(*), coalesce(sum({amount}), 0)
FROM public.{fact} WHERE {dk} BETWEEN %(first_key)s AND %(last_key)s AND {only_keys} GROUP BY 1
"""
_QUARANTINED = """
SELECT partition_date, count(*), coalesce(sum((payload ->> {amount_name})::numeric), 0)
FROM staging.rejected_rows
WHERE source_database = %(db)s AND source_table = %(src)s AND partition_date BETWEEN %(first)s AND %(last)s
  AND {quarantined} AND {only_days}
GROUP BY 1
"""
_SOURCE_KEYS = """
SELECT {pk}::text FROM public.{table} t
WHERE {grain} AND {event} >= %(start)s AND {event} < %(end)s
"""
_WAREHOUSE_KEYS = """
SELECT {pk}::text FROM public.{fact} WHERE {dk} = %(key)s
UNION ALL
SELECT source_pk FROM staging.rejected_rows
WHERE source_database = %(db)s AND source_table = %(src)s AND partition_date = %(day)s AND {quarantined}
"""


def _subset(r: Reconcile) -> tuple[sql.Composable, sql.Composable]:
    """The source rows (alias t) and quarantined rows that feed ``r.fact``: all, or its subset."""
    if r.subset is None:
        return sql.SQL("true"), sql.SQL("true")
    column, values = r.subset
    listed = sql.SQL(", ").join(map(sql.Literal, values))
    return (sql.SQL("t.{} IN ({})").format(sql.Identifier(column), listed),
            sql.SQL("payload ->> {} IN ({})").format(sql.Literal(column), listed))


def reconciliation_check(entry: PortalTable, reconcile: Reconcile | None = None) -> Check:
    """The entry's rows per day (those that feed the warehouse) against its fact's rows;
    ``reconcile`` for a second fact fed by a subset of the entry (default: the entry's own)."""
    r = reconcile or entry.reconcile
    rows, quarantined = _subset(r)

    def evaluate(scope: CheckScope) -> list[Observation]:
        amount = sql.Identifier(r.amount) if r.amount else sql.SQL("0")
        with scope.warehouse.connect() as wh:
            days = scope.days
            if days is None:  # a checks-only run without a range judges every loaded day
                first, last = wh.execute(sql.SQL(
                    "SELECT min(to_date({0}::text, 'YYYYMMDD')), max(to_date({0}::text, 'YYYYMMDD')) FROM public.{1}"
                ).format(sql.Identifier(r.date_key), sql.Identifier(r.fact))).fetchone()
                days = DayRange(first, last) if first else None
            if days is None:
                return []
            span = {"first": days.first, "last": days.last, "first_key": days.first_key,
                    "last_key": days.last_key, "db": entry.source_database, "src": entry.table,
                    "days": days.days(), "day_keys": days.day_keys()}
            # A merge's scattered days: those, not the span between them.
            only_keys = sql.SQL("{} = ANY(%(day_keys)s)").format(sql.Identifier(r.date_key)) \
                if days.selective else sql.SQL("true")
            only_days = sql.SQL("partition_date = ANY(%(days)s)") if days.selective else sql.SQL("true")
            loaded = {d: (n, s) for d, n, s in wh.execute(sql.SQL(_LOADED).format(
                dk=sql.Identifier(r.date_key), amount=amount, fact=sql.Identifier(r.fact), only_keys=only_keys), span)}
            rejected = {d: (n, s) for d, n, s in wh.execute(sql.SQL(_QUARANTINED).format(
                amount_name=sql.Literal(r.amount or "-"), quarantined=quarantined, only_days=only_days), span)}
        starts, ends = days.windows()
        with scope.portals[entry.portal].connect() as src:
            source = {d: (n, s) for d, n, s in src.execute(sql.SQL(_SOURCE_DAYS if days.selective else _SOURCE).format(
                event=sql.SQL("t.{}").format(sql.Identifier(entry.event)), amount=amount,
                table=sql.Identifier(entry.table), grain=sql.SQL("{} AND {}").format(entry.feeds("t"), rows)),
                {"start": days.start, "end": days.end, "starts": starts, "ends": ends})}
        out = []
        for day in days.days():
            (sn, ss), (ln, ls), (qn, qs) = (x.get(day, (0, Decimal(0))) for x in (source, loaded, rejected))
            diff = sn - (ln + qn)
            amount_diff = Decimal(ss) - (Decimal(ls) + Decimal(qs))
            ok = diff == 0 and amount_diff == 0
            detail = (f"source {sn} rows = loaded {ln} + quarantined {qn}"
                      + (f"; {r.amount} source {ss} vs loaded {ls} + quarantined {qs}" if r.amount else ""))
            sample = [] if ok else _difference(scope, entry, r, day)
            out.append(Observation(day, abs(diff) if diff else abs(amount_diff), "= 0 rows and amounts apart",
                                   ok, ERROR, sample, detail))
        return out

    return Check(
        "reconciles_with_source",
        f"Per day, rows of {entry.name}"
        + (f" with {r.subset[0]} in ({', '.join(r.subset[1])})" if r.subset else "")
        + f" = rows loaded into {r.fact} + rows "
        "quarantined" + (f", and the sums of {r.amount} agree" if r.amount else "")
        + ": proves nothing was lost or doubled on the way.",
        ERROR, evaluate, needs_portals=(entry.portal,),
    )


def _difference(scope: CheckScope, entry: PortalTable, r: Reconcile, day) -> list[str]:
    """Keys present on one side only for ``day`` (a few), to name in the verdict."""
    one = DayRange(day, day)
    rows, quarantined = _subset(r)
    with scope.portals[entry.portal].connect() as src:
        source = {k for (k,) in src.execute(sql.SQL(_SOURCE_KEYS).format(
            pk=sql.Identifier(r.natural_key), table=sql.Identifier(entry.table),
            grain=sql.SQL("{} AND {}").format(entry.feeds("t"), rows), event=sql.Identifier(entry.event)),
            {"start": one.start, "end": one.end})}
    with scope.warehouse.connect() as wh:
        ours = [k for (k,) in wh.execute(sql.SQL(_WAREHOUSE_KEYS).format(
            pk=sql.Identifier(r.natural_key), fact=sql.Identifier(r.fact), dk=sql.Identifier(r.date_key),
            quarantined=quarantined),
            {"key": one.first_key, "db": entry.source_database, "src": entry.table, "day": day})]
    missing = sorted(source - set(ours))
    extra = sorted(set(ours) - source)
    doubled = sorted(k for k, n in Counter(ours).items() if n > 1)
    return ([f"missing {k}" for k in missing[:5]] + [f"not in source {k}" for k in extra[:5]]
            + [f"twice {k}" for k in doubled[:5]])[:5]

