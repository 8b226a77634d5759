"""Evaluating checks for an asset: etl_data_quality rows and Dagster check results.

Each evaluation is written to etl_data_quality in a transaction of its own, committed
before the verdict reaches Dagster: a failed check's record survives the failed run.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
from psycopg.types.json import Jsonb

from smart_warehouse_assets.batches import run_id_of
from smart_warehouse_assets.quality.spec import ERROR, WARN, Check, CheckScope, Observation

_COPY = """
COPY public.etl_data_quality
    (batch_id, run_id, asset_key, partition_key, check_name, passed, severity, observed_value,
     expected, message, details)
FROM STDIN
"""


def _message(asset: str, check: Check, obs: Observation) -> str:
    verdict = "passed" if obs.passed else f"FAILED ({obs.severity})"
    text = f"{check.name} {verdict} for {asset} {obs.where}: observed {obs.observed}, expected {obs.expected}"
    if obs.detail:
        text += f"; {obs.detail}"
    if obs.sample:
        text += f"; e.g. {', '.join(obs.sample)}"
    return text


def record(scope: CheckScope, run_id: str, asset: str, batch_id: int | None, check: Check,
           observations: list[Observation]) -> None:
    rows = [
        (batch_id, run_id, asset, obs.day.isoformat() if obs.day else (scope.days.label if scope.days else None),
         check.name, obs.passed, obs.severity if not obs.passed else check.severity, obs.observed, obs.expected,
         _message(asset, check, obs), Jsonb({"sample": obs.sample, "detail": obs.detail}))
        for obs in observations
    ]
    with scope.warehouse.connect() as conn, conn.transaction():
        with conn.cursor().copy(_COPY) as copy:
            for row in rows:
                copy.write_row(row)


def evaluate(
    context: dg.AssetExecutionContext, checks: list[Check], scope: CheckScope, asset_key: dg.AssetKey,
    batch_id: int | None,
) -> Iterator[dg.AssetCheckResult]:
    """Evaluate the selected checks, record every verdict, yield one result per check."""
    asset = asset_key.to_user_string()
    run_id = run_id_of(context)
    selected = {k.name for k in context.selected_asset_check_keys if k.asset_key == asset_key}
    for check in checks:
        if check.name not in selected:
            continue
        observations = check.evaluate(scope)
        record(scope, run_id, asset, batch_id, check, observations)
        failed = [o for o in observations if not o.passed]
        severity = ERROR if any(o.severity == ERROR for o in failed) else (WARN if failed else ERROR)
        description = (
            "; ".join(_message(asset, check, o) for o in failed[:3])
            + (f"; and {len(failed) - 3} more days" if len(failed) > 3 else "")
            if failed else f"{check.name} passed for {asset} on {len(observations)} evaluation(s)"
        )
        if failed:
            context.log.error(description) if severity == ERROR else context.log.warning(description)
        yield dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=check.name,
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR if severity == ERROR else dg.AssetCheckSeverity.WARN,
            description=description[:2000],
            metadata={
                "partitions_judged": scope.days.label if scope.days else "all",
                "evaluations": len(observations),
                "failed": len(failed),
                "failed_partitions": ", ".join(o.where for o in failed[:20]) or "none",
                "observed": str(failed[0].observed if failed else (observations[0].observed if observations else "")),
                "expected": observations[0].expected if observations else "",
                "sample": ", ".join(failed[0].sample) if failed and failed[0].sample else "",
            },
        )
