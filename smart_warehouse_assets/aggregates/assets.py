"""The aggregate asset, partitioned like the facts and guarded by its checks."""

from __future__ import annotations

from smart_warehouse_assets.aggregates.daily_applications import AGG_DAILY_APPLICATIONS
from smart_warehouse_assets.facts.load import daily_asset
from smart_warehouse_assets.quality import suite

agg_daily_applications = daily_asset(
    AGG_DAILY_APPLICATIONS,
    deps=["fact_service_applications", "dim_citizen"],
    group="aggregates",
    checks=suite.FACTS["agg_daily_applications"],
    description="Daily applications per submission day x scheme x department x applicant district: "
    "volumes, outcomes, amounts, average processing days and SLA compliance.",
)
