"""The generator's memory is bounded: it grows far less than the world it makes.

The world is made without a database (the sink drops each block), with blocks small enough
that a few days at a small scale already span many of them; then ten times the rows, by
scale or by days, must not need anywhere near ten times the memory. Two measures, both
exact for a given build: the peak of what Python and numpy allocate (tracemalloc), and the
most frame bytes still alive when a block is handed on (what the generator kept of the
blocks it already handed on)."""

from __future__ import annotations

import tracemalloc
import weakref
from datetime import date

import pytest

from tests.synthetic.helpers import USE_CASES, SmallBlocks


def build(scale: float, days: int) -> tuple[int, int, int]:
    """Rows made, peak traced bytes, and the most frame bytes alive at a hand-over."""
    alive: list[tuple[weakref.ref, int]] = []
    held = [0]

    def sink(db, table, df) -> None:
        alive[:] = [(ref, size) for ref, size in alive if ref() is not None]
        held[0] = max(held[0], sum(size for _, size in alive))
        alive.append((weakref.ref(df), df.estimated_size()))

    builder = SmallBlocks(seed=7, scale=scale, start=date(2026, 1, 12), days=days, bad_rate=0.002)
    builder.world.sink = sink
    tracemalloc.start()
    try:
        world = builder.build(USE_CASES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return sum(sum(t.values()) for t in world.rows.values()), peak, held[0]


@pytest.fixture(scope="module")
def small():
    build(0.1, 12)  # first use: imports, calendars and caches are not the world's
    return build(0.1, 12)


@pytest.mark.parametrize("scale, days", [(1.0, 12), (0.1, 96)], ids=["ten times the scale", "eight times the days"])
def test_memory_grows_far_less_than_the_rows(small, scale, days):
    rows_small, peak_small, held_small = small
    rows, peak, held = build(scale, days)
    ratio = rows / rows_small
    assert ratio > 7.5, (rows, rows_small)
    # Holding the world (or a per-row numpy column of it) makes these grow like the rows.
    assert peak / peak_small < ratio / 3, (peak, peak_small, ratio)
    assert held < max(held_small, 1 << 20) * ratio / 3, (held, held_small, ratio)
