"""Check builders: each returns a Check that observes one number per partition day.

Every query is composed with psycopg.sql (identifiers) and parameters (values). Partitioned
tables are judged per IST day of their partition column; a day with no offending row
observes 0. Samples are a few offending keys, so an analyst can go and look.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from psycopg import sql

from smart_warehouse_assets.dimensions.scd2 import OPEN_END
from smart_warehouse_assets.partitions import IST
from smart_warehouse_assets.quality.contract import CONTRACT_COLUMNS, CONTRACT_CONSTRAINTS
from smart_warehouse_assets.quality.spec import ERROR, WARN, Check, CheckScope, Observation
from smart_warehouse_assets.resources import set_local

Ident = sql.Identifier
# Dimensions a fact's keys resolve to (keys_resolve): (table, key column).
DATE = ("dim_date", "date_key")
CITIZEN = ("dim_citizen", "citizen_key")
SCHEME = ("dim_scheme", "scheme_key")
DEPARTMENT = ("dim_department", "department_key")
MODEL = ("dim_model", "model_key")
DESIGNATION = ("dim_designation", "designation_key")
DAY = sql.SQL("to_date({}::text, 'YYYYMMDD')")


def day_filter(date_key: str, scope: CheckScope, alias: str = "t") -> tuple[sql.Composable, dict]:
    """WHERE fragment limiting <alias>.<date_key> to the days judged (all days when None;
    exactly the days a row-level merge touched when the range names them)."""
    if scope.days is None:
        return sql.SQL("true"), {}
    params = {"first_key": scope.days.first_key, "last_key": scope.days.last_key}
    where = sql.SQL("{}.{} BETWEEN %(first_key)s AND %(last_key)s").format(Ident(alias), Ident(date_key))
    if scope.days.selective:
        where = sql.SQL("{} AND {}.{} = ANY(%(day_keys)s)").format(where, Ident(alias), Ident(date_key))
        params["day_keys"] = scope.days.day_keys()
    return where, params


def per_day(scope: CheckScope, found: Iterable[tuple], expected: str, passes, severity=lambda v: ERROR,
             detail=lambda day, v: "") -> list[Observation]:
    """One observation per judged day; days absent from ``found`` observed 0."""
    values = {day: (value, sample or []) for day, value, sample in found}
    days = scope.days.days() if scope.days else sorted(values)
    out = []
    for day in days:
        value, sample = values.get(day, (0, []))
        ok = passes(value)
        out.append(Observation(day, value, expected, ok, ERROR if ok else severity(value), list(sample)[:5],
                               detail(day, value)))
    return out


def query_rows(scope: CheckScope, query: sql.Composable, params: dict | None = None,
               settings: Iterable[tuple[str, str]] = ()) -> list[tuple]:
    """The rows of ``query``; ``settings`` are set local to its transaction (a load's planner settings)."""
    with scope.warehouse.connect() as conn:  # not autocommit: one transaction, committed on leaving
        set_local(conn, settings)
        return conn.execute(query, params or {}).fetchall()


def count_offending(name: str, description: str, table: str, date_key: str, offending: str | sql.Composable,
                    sample: str | sql.Composable, severity: str = ERROR, blocking: bool = True,
                    joins: sql.Composable = sql.SQL("")) -> Check:
    """Rows of ``table`` (alias t, plus ``joins``) matching ``offending``; expected none."""
    offending = sql.SQL(offending) if isinstance(offending, str) else offending
    sample = sql.SQL(sample) if isinstance(sample, str) else sample

    def evaluate(scope: CheckScope) -> list[Observation]:
        where, params = day_filter(date_key, scope)
        if scope.rows_of_batch is not None:  # a merge: the rows it wrote (the batch's index finds them)
            where = sql.SQL("{} AND t.etl_batch_id = %(rows_of_batch)s").format(where)
            params["rows_of_batch"] = scope.rows_of_batch
        query = sql.SQL(
            "SELECT {day}, count(*), (array_agg({sample} ORDER BY {sample}))[1:5] FROM public.{table} t {joins} "
            "WHERE {where} AND ({offending}) GROUP BY 1"
        ).format(day=DAY.format(sql.SQL("t.{}").format(Ident(date_key))), sample=sample,
                 table=Ident(table), joins=joins, where=where, offending=offending)
        return per_day(scope, query_rows(scope, query, params), "= 0", lambda v: v == 0, lambda v: severity)

    return Check(name, description, severity, evaluate, blocking)


def batch_recorded(table: str, date_key: str, sample: str) -> Check:
    """Stands in for a per-row foreign key on etl_batch_id (dropped to spare every insert)."""
    return count_offending(
        "batch_recorded",
        f"Every row of {table} names the successful etl_batches row that wrote it.",
        table, date_key,
        "NOT EXISTS (SELECT 1 FROM public.etl_batches b WHERE b.batch_id = t.etl_batch_id AND b.status = 'success')",
        sample,
    )


def keys_resolve(table: str, date_key: str, keys: dict[str, tuple[str, str]], sample: str) -> Check:
    """Every surrogate/date key is found in its dimension (-1, the unknown member, is found).

    The key columns are NOT NULL (asserted by schema_matches_contract), so a miss of the
    join is the only way to fail."""
    # Left joins rather than NOT EXISTS under OR: the planner hashes each dimension once.
    aliases = {col: f"k{i}" for i, col in enumerate(keys)}
    joins = sql.SQL(" ").join(
        sql.SQL("LEFT JOIN public.{dim} {a} ON {a}.{dim_col} = t.{col}").format(
            dim=Ident(dim), a=Ident(aliases[col]), dim_col=Ident(dim_col), col=Ident(col))
        for col, (dim, dim_col) in keys.items()
    )
    missing = sql.SQL(" OR ").join(
        sql.SQL("{}.{} IS NULL").format(Ident(aliases[col]), Ident(dim_col))
        for col, (dim, dim_col) in keys.items()
    )
    return count_offending(
        "keys_resolve",
        f"{', '.join(keys)} each resolve to their dimension row (dim_date included); unresolvable "
        "members must point to -1, not nowhere (the columns are NOT NULL, see schema_matches_contract).",
        table, date_key, missing, sample, joins=joins,
    )


def unknown_member_rate(table: str, date_key: str, keys: tuple[str, ...]) -> Check:
    any_unknown = sql.SQL(" OR ").join(sql.SQL("t.{} = -1").format(Ident(k)) for k in keys)
    return unknown_share(
        "unknown_member_rate",
        f"Share of rows whose {', '.join(keys)} is the unknown member (-1): WARN above the first "
        "threshold, ERROR above the second (QualityThresholds).",
        table, date_key, any_unknown)


def unknown_share(name: str, description: str, table: str, date_key: str, unknown: sql.Composable,
                  limits: str = "unknown_member", blocking: bool = True) -> Check:
    """Share of a day's rows (alias t) that are ``unknown``, judged by the thresholds
    ``<limits>_warn`` and ``<limits>_error`` of QualityThresholds."""

    def evaluate(scope: CheckScope) -> list[Observation]:
        th = scope.thresholds
        where, params = day_filter(date_key, scope)
        params["min_rows"] = th.rate_min_rows
        query = sql.SQL(
            "SELECT {day}, round(count(*) FILTER (WHERE {bad})::numeric / greatest(count(*), %(min_rows)s), 5), "
            "NULL::text[] FROM public.{table} t WHERE {where} GROUP BY 1"
        ).format(day=DAY.format(sql.SQL("t.{}").format(Ident(date_key))), bad=unknown,
                 table=Ident(table), where=where)
        warn, error = getattr(th, f"{limits}_warn"), getattr(th, f"{limits}_error")
        return per_day(scope, query_rows(scope, query, params), f"<= {warn}", lambda v: v <= warn,
                        lambda v: ERROR if v > error else WARN)

    return Check(name, description, ERROR, evaluate, blocking)


def quarantine_rate(staging_table: str, source_database: str, source_table: str, partitioned: bool) -> Check:
    def evaluate(scope: CheckScope) -> list[Observation]:
        th = scope.thresholds
        params = {"db": source_database, "src": source_table, "min_rows": th.rate_min_rows}
        if partitioned:
            limit = sql.SQL("true")
            if scope.days:
                limit = sql.SQL("partition_date BETWEEN %(first)s AND %(last)s")
                params |= {"first": scope.days.first, "last": scope.days.last}
                if scope.days.selective:
                    limit = sql.SQL("partition_date = ANY(%(only)s)")
                    params["only"] = scope.days.days()
            query = sql.SQL(
                "SELECT day, round(rejected::numeric / greatest(rejected + staged, %(min_rows)s), 5), samples FROM ("
                " SELECT coalesce(r.day, s.day) AS day, coalesce(r.n, 0) AS rejected, coalesce(s.n, 0) AS staged,"
                "        r.samples"
                " FROM (SELECT partition_date AS day, count(*) AS n, (array_agg(source_pk || ': ' || reason"
                "              ORDER BY source_pk))[1:5] AS samples"
                "       FROM staging.rejected_rows WHERE source_database = %(db)s AND source_table = %(src)s"
                "         AND {limit} GROUP BY 1) r"
                " FULL JOIN (SELECT partition_date AS day, count(*) AS n FROM staging.{staging}"
                "            WHERE {limit} GROUP BY 1) s ON s.day = r.day) x"
            ).format(limit=limit, staging=Ident(staging_table))
            found = [(d, v or 0, s) for d, v, s in query_rows(scope, query, params)]
            return per_day(scope, found, f"<= {th.quarantine_warn}", lambda v: v <= th.quarantine_warn,
                            lambda v: ERROR if v > th.quarantine_error else WARN)
        query = sql.SQL(
            "SELECT (SELECT count(*) FROM staging.rejected_rows WHERE source_database = %(db)s"
            "        AND source_table = %(src)s), (SELECT count(*) FROM staging.{})"
        ).format(Ident(staging_table))
        rejected, staged = query_rows(scope, query, params)[0]
        rate = Decimal(rejected) / max(rejected + staged, th.rate_min_rows, 1)
        ok = rate <= Decimal(str(th.quarantine_warn))
        severity = ERROR if ok or rate > Decimal(str(th.quarantine_error)) else WARN
        return [Observation(None, round(rate, 5), f"<= {th.quarantine_warn}", ok, severity)]

    return Check(
        "quarantine_rate",
        f"Share of {source_database}.{source_table} rows sent to staging.rejected_rows: WARN above "
        "the first threshold, ERROR above the second (QualityThresholds).",
        ERROR, evaluate,
    )


# The primary key is spelled from the catalog rows of the query's snapshot, not with
# pg_get_constraintdef, which looks the constraint up in the catalog as it stands when called:
# a load that rebuilds the key (deferred_indexes.py) and commits while this query runs would
# leave the key this snapshot sees unknown there, and the check would call it missing.
_CONSTRAINTS = """
SELECT 'PRIMARY KEY (' || string_agg(quote_ident(a.attname), ', ' ORDER BY k.n) || ')' FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k (attnum, n)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.conrelid = to_regclass(%(rel)s) AND c.contype = 'p' AND c.convalidated
GROUP BY c.oid
UNION
SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
WHERE c.conrelid = to_regclass(%(rel)s) AND c.contype = 'c' AND c.convalidated
UNION
SELECT 'NOT NULL ' || a.attname FROM pg_attribute a
WHERE a.attrelid = to_regclass(%(rel)s) AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
UNION
SELECT 'UNIQUE (' || string_agg(a.attname, ', ' ORDER BY k.n) || ')'
       || CASE WHEN i.indnullsnotdistinct THEN ' NULLS NOT DISTINCT' ELSE '' END
       || coalesce(' WHERE ' || pg_get_expr(i.indpred, i.indrelid), '')
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k (attnum, n)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = to_regclass(%(rel)s) AND i.indisunique AND i.indisvalid AND k.n <= i.indnkeyatts
GROUP BY i.indexrelid, i.indrelid, i.indpred, i.indnkeyatts, i.indnullsnotdistinct
HAVING count(*) = i.indnkeyatts
"""


def present_constraints(conn, table: str, schema: str = "public") -> set[str]:
    """The table's valid primary key, CHECKs, NOT NULL columns and unique indexes (on plain
    columns), spelled as CONTRACT_CONSTRAINTS spells them."""
    rel = sql.SQL("{}.{}").format(Ident(schema), Ident(table)).as_string(conn)
    return {c for (c,) in conn.execute(sql.SQL(_CONSTRAINTS), {"rel": rel}).fetchall()}


def schema_matches_contract(table: str, schema: str = "public") -> Check:
    required = CONTRACT_COLUMNS.get(table, ())
    constraints = CONTRACT_CONSTRAINTS.get(table, ())

    def evaluate(scope: CheckScope) -> list[Observation]:
        with scope.warehouse.connect() as conn:
            present = {c for (c,) in conn.execute(sql.SQL(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %(s)s "
                "AND table_name = %(t)s"), {"s": schema, "t": table}).fetchall()}
            enforced = present_constraints(conn, table, schema)
        missing = [c for c in required if c not in present]
        unenforced = [c for c in constraints if c not in enforced]
        detail = "; ".join(part for part in (
            f"missing columns: {', '.join(missing)}" if missing else "",
            f"missing constraints: {', '.join(unenforced)}" if unenforced else "") if part)
        return [Observation(None, len(missing) + len(unenforced), "= 0 missing contract columns and constraints",
                            not (missing or unenforced), ERROR, missing + unenforced, detail)]

    return Check(
        "schema_matches_contract",
        f"{schema}.{table} still has every column the data contract promises analysts, and every "
        "constraint (primary key, unique index, NOT NULL, CHECK) that stands in for a data check "
        "(catches drift from a careless migration).",
        ERROR, evaluate,
    )


def latest_partition_fresh(table: str, date_key: str) -> Check:
    def evaluate(scope: CheckScope) -> list[Observation]:
        latest = query_rows(scope, sql.SQL("SELECT max({}) FROM public.{} WHERE {} <> -1").format(
            Ident(date_key), Ident(table), Ident(date_key)))[0][0]
        yesterday = datetime.now(IST).date() - timedelta(days=1)
        limit = scope.thresholds.freshness_max_lag_days
        if latest is None:
            return [Observation(None, None, f"latest day >= {yesterday - timedelta(days=limit)}", False, WARN,
                                detail="the table is empty")]
        latest_day = date(latest // 10000, latest // 100 % 100, latest % 100)
        lag = (yesterday - latest_day).days
        return [Observation(None, lag, f"<= {limit} days behind yesterday", lag <= limit, WARN,
                            detail=f"latest loaded day {latest_day}")]

    return Check(
        "latest_partition_fresh",
        f"The latest loaded day of {table} is no more than freshness_max_lag_days behind yesterday "
        "(the nightly schedule loads yesterday).",
        WARN, evaluate, blocking=False,
    )


_ONE_CURRENT = """
SELECT count(*), (array_agg({nk}::text ORDER BY {nk}))[1:5] FROM (
    SELECT {nk} FROM public.{table} WHERE {key} <> -1 GROUP BY 1 HAVING NOT bool_or(is_current)) x
"""
_CONTIGUOUS = """
SELECT count(*), (array_agg({nk}::text ORDER BY {nk}))[1:5] FROM (
    SELECT {nk}, valid_to, lead(valid_from) OVER (PARTITION BY {nk} ORDER BY valid_from) AS next_from
    FROM public.{table} WHERE {key} <> -1) v
WHERE next_from IS NOT NULL AND next_from <> valid_to
"""
_FLAG = """
SELECT count(*), (array_agg(coalesce({nk}::text, 'unknown member') ORDER BY {nk}))[1:5]
FROM public.{table} WHERE is_current <> (valid_to = {open_end})
"""


def scd2_checks(table: str, natural_key: str, key: str) -> list[Check]:
    names = {"nk": Ident(natural_key), "table": Ident(table), "key": Ident(key), "open_end": sql.Literal(OPEN_END)}
    return [
        table_count_check(
            "one_current_row_per_key",
            f"Every {natural_key} in {table} has a current version (is_current); the unique index "
            f"on ({natural_key}) WHERE is_current keeps it to one.",
            sql.SQL(_ONE_CURRENT).format(**names)),
        table_count_check(
            "versions_contiguous",
            f"The versions of each {natural_key} in {table} follow each other without gap or overlap: "
            "each valid_to is the next version's valid_from.",
            sql.SQL(_CONTIGUOUS).format(**names)),
        table_count_check(
            "current_flag_matches_open_interval",
            f"is_current is true exactly when valid_to is {OPEN_END} in {table}.",
            sql.SQL(_FLAG).format(**names)),
    ]


def _table_count(scope: CheckScope, query: sql.Composable) -> list[Observation]:
    count, sample = query_rows(scope, query)[0]
    return [Observation(None, count, "= 0", count == 0, ERROR, list(sample or []))]


def table_count_check(name: str, description: str, query: sql.Composable, severity: str = ERROR) -> Check:
    """A whole-table check whose query returns (offending count, sample keys)."""
    return Check(name, description, severity, lambda scope: _table_count(scope, query))
