"""Fact assets, partitioned by the IST day of their event."""

from __future__ import annotations

from smart_warehouse_assets.facts.definitions import (
    FACT_APPLICATION_PROCESSING,
    FACT_ELIGIBILITY_SCORING,
    FACT_SERVICE_APPLICATIONS,
)
from smart_warehouse_assets.facts.load import daily_asset
from smart_warehouse_assets.quality import suite

DIMENSIONS = ["dim_date", "dim_citizen", "dim_scheme", "dim_department"]

fact_assets = [
    daily_asset(
        FACT_SERVICE_APPLICATIONS,
        checks=suite.FACTS[FACT_SERVICE_APPLICATIONS.table],
        deps=["staging/service_applications", *DIMENSIONS],
        group="facts",
        description="Accumulating snapshot of submitted applications: one row per application, "
        "partitioned by IST submission day; re-materializing a day picks up later decisions.",
    ),
    daily_asset(
        FACT_APPLICATION_PROCESSING,
        checks=suite.FACTS[FACT_APPLICATION_PROCESSING.table],
        deps=["staging/processing_actions", "dim_date", "dim_scheme", "dim_department"],
        group="facts",
        description="One row per processing action, partitioned by IST action day, with the minutes "
        "since the application's previous action (or its submission).",
    ),
    daily_asset(
        FACT_ELIGIBILITY_SCORING,
        checks=suite.FACTS[FACT_ELIGIBILITY_SCORING.table],
        deps=["staging/predictions", *DIMENSIONS],
        group="facts",
        description="One row per eligibility prediction, partitioned by IST prediction day, next to "
        "the application's actual outcome once decided.",
    ),
]
