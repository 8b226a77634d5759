"""What a data-quality check is, and what one evaluation of it found.

A check observes a number per partition day (or once for an unpartitioned table) and
compares it with an expectation. Checks with thresholds are WARN between the first and
second threshold and ERROR above the second; the rest have one fixed severity. ERROR
checks on an asset with downstream assets are blocking: a failure stops them in the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import dagster as dg
from pydantic import Field, model_validator

from smart_warehouse_assets.partitions import DayRange
from smart_warehouse_assets.resources import PostgresResource

WARN = "WARN"
ERROR = "ERROR"


@dataclass(frozen=True)
class Observation:
    """One verdict: for one day (partitioned assets) or the whole table (day is None)."""

    day: date | None
    observed: Decimal | int | float | None
    expected: str
    passed: bool
    severity: str = ERROR
    sample: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def where(self) -> str:
        return self.day.isoformat() if self.day else "whole table"


@dataclass(frozen=True)
class CheckScope:
    """What a check may look at: the warehouse, the portals, the days judged (None: all)."""

    warehouse: PostgresResource
    portals: dict[str, PostgresResource]
    days: DayRange | None
    thresholds: QualityThresholds
    # A row-level merge (merge.py): checks of single rows judge only the rows this batch
    # wrote on the days judged; the others were judged by the load that wrote them. Checks
    # of a whole day (rates, reconciliation, the aggregate) still judge the whole day.
    rows_of_batch: int | None = None


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    severity: str  # the severity of a failure (threshold checks may fail as WARN first)
    evaluate: Callable[[CheckScope], list[Observation]]
    blocking: bool = True
    needs_portals: tuple[str, ...] = ()

    def spec(self, asset_key: dg.AssetKey) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            name=self.name,
            asset=asset_key,
            description=f"[{self.severity}{', blocking' if self.blocking and self.severity == ERROR else ''}] "
            f"{self.description}",
            blocking=self.blocking and self.severity == ERROR,
        )


class QualityThresholds(dg.ConfigurableResource):
    """Limits for the rate checks (fractions of a day's rows) and for freshness (days).

    The defaults sit above what a healthy day of the platform shows (on the seeded world:
    unknown members up to ~7% of a day's applications, from schemes owned by a department
    code nobody has; quarantine up to ~2%) and well below a broken load.
    """

    unknown_member_warn: float = Field(default=0.10, ge=0, le=1)
    unknown_member_error: float = Field(default=0.25, ge=0, le=1)
    # Processing actions matching no approval-chain step: a healthy portal numbers more actions
    # than its chains have steps (a return or a field visit is an action of its own), so on
    # the seeded world 10% of the actions match none at scale 1, up to 17% on a day.
    unmatched_step_warn: float = Field(default=0.25, ge=0, le=1)
    unmatched_step_error: float = Field(default=0.50, ge=0, le=1)
    quarantine_warn: float = Field(default=0.03, ge=0, le=1)
    quarantine_error: float = Field(default=0.10, ge=0, le=1)
    freshness_max_lag_days: int = Field(default=2, ge=0, le=3660)
    # A day with fewer rows is judged as if it had this many, so that one or two odd rows
    # on a quiet day do not read as a 5% problem.
    rate_min_rows: int = Field(default=100, ge=1, le=10_000_000)
    # Model performance (agg_model_performance): a model-day with at least model_min_judged
    # judged predictions WARNs below these, and is_breached is set in smart_aiml.model_monitoring.
    model_min_judged: int = Field(default=30, ge=1, le=10_000_000)
    model_accuracy_min: float = Field(default=0.60, ge=0, le=1)
    model_roc_auc_min: float = Field(default=0.60, ge=0, le=1)
    model_brier_max: float = Field(default=0.25, ge=0, le=1)

    @model_validator(mode="after")
    def _warn_before_error(self) -> QualityThresholds:
        """Fractions lie in [0, 1] (the Field bounds, which also refuse NaN); WARN comes first."""
        for name in ("unknown_member", "unmatched_step", "quarantine"):
            warn, error = getattr(self, f"{name}_warn"), getattr(self, f"{name}_error")
            if warn > error:
                raise ValueError(f"{name}_warn ({warn}) must not be above {name}_error ({error})")
        return self
