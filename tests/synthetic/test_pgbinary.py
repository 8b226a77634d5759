"""The binary COPY encoder stores exactly what the CSV path stores, edge values included."""

from __future__ import annotations

import math
from datetime import date, datetime, timezone

import numpy as np
import polars as pl
import psycopg
import pytest

from smart_warehouse_assets.synthetic import pgbinary
from smart_warehouse_assets.synthetic.core import copy_frame, frame, new_uuid_bytes, uuid_strings

COLUMNS = """k integer PRIMARY KEY, u uuid, t text, j jsonb, ts timestamptz, d date, i2 smallint, i4 integer,
             i8 bigint, b boolean, f8 double precision, n2 numeric(12,2), n4 numeric(5,4), n0 numeric(10,0)"""

UUIDS = ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-4fff-bfff-ffffffffffff",
         "0123abcd-4567-489a-8bcd-ef0123456789", None, "9F3C2A10-0000-4000-8000-00000000000A"]


def edge_frame() -> pl.DataFrame:
    return pl.DataFrame({
        "k": [1, 2, 3, 4, 5],
        "u": UUIDS,
        "t": ["", 'a "quoted", comma\nnew line', "Nāgpur ✓ ñ 日本", None, "\\N"],
        "j": ['{"a": 1}', "[]", '{"s": "x\\"y", "n": null}', None, '{"nested": {"k": [1, 2.5]}}'],
        "ts": [datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone.utc), datetime(2000, 1, 1, tzinfo=timezone.utc),
               datetime(2026, 3, 29, 2, 30, 15, tzinfo=timezone.utc), None,
               datetime(2035, 8, 1, 5, 30, tzinfo=timezone.utc)],
        "d": [date(1950, 5, 17), date(2000, 1, 1), date(2026, 2, 28), None, date(1999, 12, 31)],
        "i2": pl.Series([-32768, 32767, 0, None, 7], dtype=pl.Int16),
        "i4": pl.Series([-2**31, 2**31 - 1, 0, None, 42], dtype=pl.Int32),
        "i8": [-2**63, 2**63 - 1, 0, None, 10**12],
        "b": [True, False, True, None, False],
        "f8": [0.1, -1e300, 5e-324, None, 1234.5678],
        "n2": [1234.5, -0.125, 2.675, None, 9999999999.99],
        "n4": [0.0001, 0.99995, -0.5, None, 9.9999],
        "n0": [0.5, -2.5, 1e9, None, 0.0],
    }, schema_overrides={"ts": pl.Datetime("us", "UTC")})


@pytest.fixture
def citizen(database_urls):
    with psycopg.connect(database_urls["citizen"]) as conn:
        conn.execute(f"CREATE TABLE enc_binary ({COLUMNS})")
        conn.execute(f"CREATE TABLE enc_csv ({COLUMNS})")
    return database_urls["citizen"]


def contents(conn, table: str) -> list[str]:
    return [r[0] for r in conn.execute(f"SELECT t::text FROM {table} AS t ORDER BY k")]


def test_binary_copy_stores_what_csv_stores(citizen):
    df = edge_frame()
    with psycopg.connect(citizen) as conn:
        types = {n: (t, m) for n, t, m in conn.execute(pgbinary.COLUMN_TYPES_SQL, ("enc_binary",))}
        assert pgbinary.supported(types, df.columns)
        copy_frame(conn, "enc_binary", df, freeze=False, chunk_rows=2)
        copy_frame(conn, "enc_csv", df, freeze=False, binary=False)
        binary, csv = contents(conn, "enc_binary"), contents(conn, "enc_csv")
    assert binary == csv
    assert len(binary) == df.height


def test_generated_uuid_columns_round_trip(citizen):
    raw = new_uuid_bytes(np.random.default_rng(3), 1000)
    df = frame(k=np.arange(1000, dtype=np.int32), u=raw)
    assert df["u"].dtype == pl.Binary
    with psycopg.connect(citizen) as conn:
        copy_frame(conn, "enc_binary", df, freeze=False)
        copy_frame(conn, "enc_csv", df, freeze=False, binary=False)
        stored = [r[0] for r in conn.execute("SELECT u::text FROM enc_binary ORDER BY k")]
        assert contents(conn, "enc_binary") == contents(conn, "enc_csv")
    assert stored == uuid_strings(df["u"])


def test_encoder_refuses_what_it_cannot_represent(citizen):
    with psycopg.connect(citizen) as conn:
        types = {n: (t, m) for n, t, m in conn.execute(pgbinary.COLUMN_TYPES_SQL, ("enc_binary",))}
    with pytest.raises(pgbinary.BinaryCopyError, match="not a uuid"):
        pgbinary.encode_rows(pl.DataFrame({"u": ["not-a-uuid-at-all-but-36-characters!"]}), types)
    with pytest.raises(pgbinary.BinaryCopyError, match="too large"):
        pgbinary.encode_rows(pl.DataFrame({"n4": [12.5]}), types)
    with pytest.raises(pgbinary.BinaryCopyError, match="not an integer"):
        pgbinary.encode_rows(pl.DataFrame({"i4": [1.5]}), types)
    assert not pgbinary.supported({"x": ("numeric", -1)}, ["x"])  # no declared scale: CSV
    assert not pgbinary.supported({"x": ("interval", -1)}, ["x"])
    assert math.isclose(float(edge_frame()["n2"][2]), 2.675)
