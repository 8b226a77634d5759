"""A decoder of PostgreSQL's pgoutput protocol, version 1 (the messages of a slot's stream).

Only what the warehouse needs: Begin, Commit, Relation, Insert, Update, Delete and Truncate;
Origin and Type messages are recognised and ignored. Column values arrive in text format
(version 1 sends no binary values); a value a tuple does not carry (an unchanged TOASTed
column) is :data:`UNCHANGED`. Layout: "Logical Replication Message Formats" in the
PostgreSQL manual.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
UNCHANGED = object()


class DecodeError(ValueError):
    """The bytes are not a pgoutput version 1 message this decoder knows."""


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str
    columns: tuple[str, ...]
    key_columns: tuple[str, ...]  # the replica identity's columns (flag bit 1)


@dataclass(frozen=True)
class Begin:
    final_lsn: int
    commit_time: datetime
    xid: int


@dataclass(frozen=True)
class Commit:
    commit_lsn: int
    end_lsn: int
    commit_time: datetime


@dataclass(frozen=True)
class Change:
    op: str  # 'insert', 'update' or 'delete'
    relation_oid: int
    new: tuple | None  # values of the new row (insert, update)
    old: tuple | None = None  # key (or whole old row) of a delete or of an update that changed it


@dataclass(frozen=True)
class Truncate:
    relation_oids: tuple[int, ...]


@dataclass
class _Reader:
    data: bytes
    pos: int = 0

    def take(self, fmt: str):
        values = struct.unpack_from("!" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("!" + fmt)
        return values if len(values) > 1 else values[0]

    def byte(self) -> str:
        return chr(self.take("B"))

    def string(self) -> str:
        end = self.data.index(b"\0", self.pos)
        text = self.data[self.pos:end].decode()
        self.pos = end + 1
        return text

    def time(self) -> datetime:
        return PG_EPOCH + timedelta(microseconds=self.take("q"))

    def tuple(self) -> tuple:
        values = []
        for _ in range(self.take("H")):
            kind = self.byte()
            if kind == "n":
                values.append(None)
            elif kind == "u":
                values.append(UNCHANGED)
            elif kind == "t":
                n = self.take("I")
                values.append(self.data[self.pos:self.pos + n].decode())
                self.pos += n
            else:
                raise DecodeError(f"unknown tuple column kind {kind!r}")
        return tuple(values)


def decode(data: bytes) -> Relation | Begin | Commit | Change | Truncate | None:
    """One message; None for the kinds the warehouse does not use (Origin, Type, Message)."""
    r = _Reader(bytes(data))
    kind = r.byte()
    if kind == "B":
        lsn, at, xid = r.take("q"), r.time(), r.take("I")
        return Begin(lsn, at, xid)
    if kind == "C":
        r.take("B")  # flags, unused
        commit_lsn, end_lsn = r.take("Q"), r.take("Q")
        return Commit(commit_lsn, end_lsn, r.time())
    if kind == "R":
        oid, schema, name = r.take("I"), r.string(), r.string()
        r.take("B")  # replica identity setting
        columns, keys = [], []
        for _ in range(r.take("H")):
            flags, col = r.take("B"), r.string()
            r.take("I"), r.take("i")  # type oid, type modifier
            columns.append(col)
            if flags & 1:
                keys.append(col)
        return Relation(oid, schema, name, tuple(columns), tuple(keys))
    if kind == "I":
        oid = r.take("I")
        if r.byte() != "N":
            raise DecodeError("insert without a new tuple")
        return Change("insert", oid, r.tuple())
    if kind == "U":
        oid, marker, old = r.take("I"), r.byte(), None
        if marker in ("K", "O"):
            old, marker = r.tuple(), r.byte()
        if marker != "N":
            raise DecodeError("update without a new tuple")
        return Change("update", oid, r.tuple(), old)
    if kind == "D":
        oid, marker = r.take("I"), r.byte()
        if marker not in ("K", "O"):
            raise DecodeError("delete without a key")
        return Change("delete", oid, None, r.tuple())
    if kind == "T":
        n = r.take("I")
        r.take("B")  # options (cascade, restart identity)
        return Truncate(tuple(r.take("I") for _ in range(n)))
    if kind in ("O", "Y", "M"):
        return None
    raise DecodeError(f"unknown pgoutput message {kind!r}")


def lsn_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def lsn_int(text: str) -> int:
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)
