"""The world ``seed`` builds and the period it is built in, shared by every portal's builder.

The builders of the four portals' tables (``citizen``, ``applications``, ``dept``, ``aiml``,
``monitor``) and the planting of dirty rows (``dirty``) are mixins of one builder
(``seeding.Builder``): the portals' tables refer to each other (an application is routed
to a department office, a prediction scores an application), so each builder leaves on
the builder what the later ones read.

The world is never held whole. What many rows refer to stays as a few numpy columns per
entity (the citizens' ids, registration times and districts; the offices, officers,
schemes and models); everything else is made in blocks — the applications with every row
that follows from them, the citizens, each span of monitored days — and handed to the
sink block by block. Every block draws from its own random streams, keyed by the seed and
the block's number, so the blocks' contents do not depend on how they are written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import polars as pl

from smart_warehouse_assets.synthetic.core import (
    PORTALS, TABLES, Calendar, Streams, SyntheticDataError, day_number, ist_day_start, ist_midnight, office_time,
    time_of_day, uuid_text,
)

# Salts that keep the block streams apart from each other and from the period's streams.
APPLICATION_BLOCK, CITIZEN_BLOCK, MONITOR_BLOCK = 1, 2, 3


class World:
    """What was handed on, counted: rows per table, the ids of the dirty rows planted.

    ``sink`` receives every block of every table as it is made (the loader starts on it
    while the rest of the world is made); ``close`` says a table has all its rows.
    """

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, int]] = {db: dict.fromkeys(TABLES[db], 0) for db in PORTALS}
        self.dirty: dict[str, list[np.ndarray]] = {}
        self.sink: Callable[[str, str, pl.DataFrame], None] | None = None
        self.closer: Callable[[str, str], None] | None = None

    def put(self, db: str, table: str, df: pl.DataFrame) -> None:
        self.rows[db][table] += df.height
        if self.sink is not None:
            self.sink(db, table, df)

    def close(self, db: str, table: str) -> None:
        if self.closer is not None:
            self.closer(db, table)

    def put_whole(self, db: str, table: str, df: pl.DataFrame) -> None:
        """A table made in one piece."""
        self.put(db, table, df)
        self.close(db, table)

    def plant(self, kind: str, ids: np.ndarray) -> None:
        """Record the ids (``V16``) of rows made dirty in one way."""
        self.dirty.setdefault(kind, []).append(np.asarray(ids))

    def dirty_ids(self, kind: str) -> list[str] | None:
        """The planted ids of a kind as sorted canonical text, or None if none were planted."""
        if kind not in self.dirty:
            return None
        return sorted(uuid_text(np.concatenate(self.dirty[kind])).astype(str).tolist())


class Period:
    """The seeded period (``S`` to ``H``, as UTC microseconds; ``d0`` its first IST day
    number), its calendar, the random streams and the world being filled."""

    # Blocks: how many applications (with everything that follows from them), citizens and
    # health checks (with the rest of their days' monitoring) are made at a time. They fix
    # which random stream draws each row, so they are part of the world's definition:
    # other sizes make another world (as real, but not the same bytes).
    APPLICATIONS_PER_BLOCK = 8192
    CITIZENS_PER_BLOCK = 16384
    MONITORED_ROWS_PER_BLOCK = 16384

    def __init__(self, *, seed: int, scale: float, start: date, days: int, bad_rate: float) -> None:
        if scale <= 0:
            raise SyntheticDataError("scale must be positive")
        if days < 1:
            raise SyntheticDataError("days must be at least 1")
        self.seed, self.scale, self.start, self.days, self.bad_rate = seed, scale, start, days, bad_rate
        self.S = ist_midnight(start)
        self.H = ist_midnight(start + timedelta(days=days))
        self.d0 = day_number(start)
        self.cal = Calendar(self.d0 - 2200, self.d0 + days + 800)
        self.rng = Streams(seed)
        self.block = self.rng  # the streams of the block being made (see ``block_streams``)
        self.world = World()

    def block_streams(self, kind: int, number: int) -> Streams:
        """The random streams of one block of a kind (applications, citizens, monitored days)."""
        self.block = Streams(self.seed, kind, number)
        return self.block

    def period_days(self) -> np.ndarray:
        """The IST day numbers of the period."""
        return np.arange(self.d0, self.d0 + self.days)

    def day_weights(self) -> np.ndarray:
        """Each period day's share of submissions: working days busy, a slow rise over the period."""
        w = self.cal.submission_weight(self.period_days()) * (1.0 + 0.15 * np.arange(self.days) / max(self.days, 1))
        return w / w.sum()

    def sample_period_times(self, rng: np.random.Generator, n: int, kind: str = "online") -> np.ndarray:
        """n instants in the period, following the working-day submission pattern."""
        days = self.period_days()
        chosen = days[rng.choice(self.days, size=n, p=self.day_weights())]
        return ist_day_start(chosen) + time_of_day(rng, n, kind)

    def office_time(self, rng: np.random.Generator, day_numbers: np.ndarray) -> np.ndarray:
        """An instant in office hours on each day, moved on to the next working day."""
        return office_time(rng, self.cal.next_working(day_numbers))
