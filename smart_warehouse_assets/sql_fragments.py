"""Pieces of SQL built from column names, shared by every layer that composes statements."""

from __future__ import annotations

from collections.abc import Iterable

from psycopg import sql


def aliased(alias: str, columns: Iterable[str]) -> sql.Composable:
    """``alias.a, alias.b, ...`` for the column names given, each quoted as an identifier."""
    return sql.SQL(", ").join(sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(c)) for c in columns)
