"""Evaluating checks for an asset: etl_data_quality rows and Dagster check results.

Each evaluation is written to etl_data_quality in a transaction of its own, committed
before the verdict reaches Dagster: a failed check's record survives the failed run.
An asset's checks are independent read-only queries, so they run side by side on their
own connections (the server works on each in its own process); verdicts reach Dagster
in the declared order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
from psycopg.types.json import Jsonb

from smart_warehouse_assets.batches import run_id_of
from smart_warehouse_assets.quality.spec import ERROR, WARN, Check, CheckScope, Observation

# Checks in flight at once: enough to keep the server's cores busy, few enough not to crowd it.
CHECK_WORKERS = max(2, min(4, os.cpu_count() or 2))

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


Verdicts = list[tuple[Check, list[Observation]]]


def judge(context: dg.AssetExecutionContext, checks: list[Check], scope: CheckScope, asset_key: dg.AssetKey,
          batch_id: int | None) -> Verdicts:
    """Evaluate the selected checks side by side and record every verdict; in declared order."""
    asset = asset_key.to_user_string()
    run_id = run_id_of(context)
    selected = {k.name for k in context.selected_asset_check_keys if k.asset_key == asset_key}
    todo = [c for c in checks if c.name in selected]
    if not todo:
        return []

    def one(check: Check) -> list[Observation]:
        observations = check.evaluate(scope)
        record(scope, run_id, asset, batch_id, check, observations)
        return observations

    pool = ThreadPoolExecutor(max_workers=min(CHECK_WORKERS, len(todo)), thread_name_prefix="check")
    try:
        futures = [pool.submit(one, check) for check in todo]
        return [(check, future.result()) for check, future in zip(todo, futures)]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def check_results(context: dg.AssetExecutionContext, asset_key: dg.AssetKey, scope: CheckScope,
                  verdicts: Verdicts) -> Iterator[dg.AssetCheckResult]:
    """One Dagster result per judged check."""
    asset = asset_key.to_user_string()
    for check, observations in verdicts:
        yield _result(context, asset, asset_key, scope, check, observations)


def _result(context: dg.AssetExecutionContext, asset: str, asset_key: dg.AssetKey, scope: CheckScope,
            check: Check, observations: list[Observation]) -> dg.AssetCheckResult:
    failed = [o for o in observations if not o.passed]
    severity = ERROR if any(o.severity == ERROR for o in failed) else (WARN if failed else ERROR)
    # The days come first: the Checks tab shows the start of the description.
    description = (
        f"Failed on {', '.join(o.where for o in failed[:10])}{' ...' if len(failed) > 10 else ''} "
        f"({len(failed)} of {len(observations)}): "
        + "; ".join(_message(asset, check, o) for o in failed[:3])
        + (f"; and {len(failed) - 3} more" if len(failed) > 3 else "")
        if failed else f"{check.name} passed for {asset} on {len(observations)} evaluation(s)"
    )
    if failed:
        context.log.error(description) if severity == ERROR else context.log.warning(description)
    return dg.AssetCheckResult(
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
            "failed_days": dg.MetadataValue.md(_day_table(failed)) if failed else "none",
            "observed": str(failed[0].observed if failed else (observations[0].observed if observations else "")),
            "expected": observations[0].expected if observations else "",
            "sample": ", ".join(failed[0].sample) if failed and failed[0].sample else "",
        },
    )


def _day_table(failed: list[Observation]) -> str:
    """The failed days as a small table, one row a day (at most 50), for the check's page."""
    lines = ["| day | severity | observed | expected | e.g. |", "|---|---|---|---|---|"]
    lines += [f"| {o.where} | {o.severity} | {o.observed} | {o.expected} | {', '.join(o.sample[:3])} |"
              for o in failed[:50]]
    if len(failed) > 50:
        lines.append(f"| ... {len(failed) - 50} more | | | | |")
    return "\n".join(lines)
