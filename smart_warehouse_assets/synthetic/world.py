"""The world ``seed`` builds and the period it is built in, shared by every portal's builder.

The builders of the four portals' tables (``citizen``, ``applications``, ``dept``, ``aiml``,
``monitor``) and the planting of dirty rows (``dirty``) are mixins of one builder
(``seeding.Builder``): the portals' tables refer to each other (an application is routed
to a department office, a prediction scores an application), so each builder leaves on
the builder what the later ones read. This module holds what they all start from: the frames made so far, the
period, its calendar and the random streams.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from smart_warehouse_assets.synthetic.core import (
    PORTALS, Calendar, Streams, SyntheticDataError, day_number, ist_day_start, ist_midnight, office_time, time_of_day,
)


@dataclass
class World:
    """Everything generated, as frames per database and table, plus the manifest parts.
    ``sink`` receives each table once it is final (the loader starts on it while the rest
    of the world is made)."""
    frames: dict[str, dict[str, pl.DataFrame]] = field(default_factory=lambda: {k: {} for k in PORTALS})
    dirty: dict[str, np.ndarray] = field(default_factory=dict)
    sink: Callable[[str, str, pl.DataFrame], None] | None = None

    def put(self, db: str, table: str, df: pl.DataFrame) -> None:
        self.frames[db][table] = df
        if self.sink is not None:
            self.sink(db, table, df)


class Period:
    """The seeded period (``S`` to ``H``, as UTC microseconds; ``d0`` its first IST day
    number), its calendar, the random streams and the world being filled."""

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
        self.world = World()

    def period_days(self) -> np.ndarray:
        """The IST day numbers of the period."""
        return np.arange(self.d0, self.d0 + self.days)

    def sample_period_times(self, rng: np.random.Generator, n: int, kind: str = "online") -> np.ndarray:
        """n instants in the period, following the working-day submission pattern."""
        days = self.period_days()
        w = self.cal.submission_weight(days) * (1.0 + 0.15 * np.arange(self.days) / max(self.days, 1))
        chosen = days[rng.choice(self.days, size=n, p=w / w.sum())]
        return ist_day_start(chosen) + time_of_day(rng, n, kind)

    def office_time(self, rng: np.random.Generator, day_numbers: np.ndarray) -> np.ndarray:
        """An instant in office hours on each day, moved on to the next working day."""
        return office_time(rng, self.cal.next_working(day_numbers))

