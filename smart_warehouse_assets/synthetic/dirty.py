"""The dirty rows: defects planted in known places, exactly counted, and listed in the manifest.

Real portals hold rows that break the rules — orphans, decisions before submission,
district names spelled anyhow. The warehouse must find them, so ``seed`` plants each
kind in ``bad_rate`` of its table's rows, and the manifest lists their ids for the tests
(and for ``world_mismatch`` to recognise the world). ``simulate`` never plants any.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from smart_warehouse_assets.synthetic import reference as ref
from smart_warehouse_assets.synthetic import rules
from smart_warehouse_assets.synthetic.core import (
    HOUR, MINUTE, SyntheticDataError, frame, ist_midnight, new_uuid_bytes, nullify, ts_col, uuid_col,
)
from smart_warehouse_assets.synthetic.rules import APPROVED, ELIGIBILITY, REJECTED, WITHDRAWN
from smart_warehouse_assets.synthetic.world import World

DIRTY_KINDS = (
    "orphan_action", "orphan_prediction", "decision_before_submission", "future_timestamp",
    "approved_above_requested", "negative_amount", "odd_district", "gender_vocabulary",
    "scheme_unknown_department",
)
DIRTY_TABLE = {
    "orphan_action": "dept.processing_actions",
    "orphan_prediction": "aiml.predictions",
    "decision_before_submission": "citizen.service_applications",
    "future_timestamp": "citizen.service_applications",
    "approved_above_requested": "citizen.service_applications",
    "negative_amount": "citizen.service_applications",
    "odd_district": "citizen.citizens",
    "gender_vocabulary": "citizen.citizens",
    "scheme_unknown_department": "citizen.schemes",
}


def bad_count(bad_rate: float, rows: int) -> int:
    """How many rows of a table one dirty kind makes dirty."""
    if bad_rate <= 0:
        return 0
    return max(1, round(bad_rate * rows))


def bad_count_added(bad_rate: float, clean_rows: int) -> int:
    """Rows to add so that added == bad_count(bad_rate, clean_rows + added)."""
    k = bad_count(bad_rate, clean_rows)
    for _ in range(10):
        nxt = bad_count(bad_rate, clean_rows + k)
        if nxt == k:
            break
        k = nxt
    return k


class DirtyRows:
    """Builder mixin (see ``world.Period``): plants the dirty rows and finishes their tables.

    Each kind makes exactly ``bad_count`` rows of its table dirty. Citizens and schemes are
    chosen among the whole population up front; applications block by block, each block
    taking a share of every kind fixed before any is made (a block that lacks candidates
    passes what it could not plant on to the next one); orphans are added once their table's
    clean rows are counted."""

    def dirty_citizens(self) -> None:
        """Which citizens get an odd district spelling or gender code (applied by ``citizen_block``)."""
        rng = self.rng("dirty.citizens")
        n = len(self.cit_ids)
        k = bad_count(self.bad_rate, n)
        odd = np.sort(rng.choice(n, size=k, replace=False)) if k else np.array([], np.int64)
        rest = np.setdiff1d(np.arange(n), odd)
        if len(rest) < k:
            raise SyntheticDataError(f"not enough rows to make {k} gender_vocabulary rows dirty; raise scale or days")
        alt = np.sort(rng.choice(rest, size=k, replace=False)) if k else np.array([], np.int64)
        del rest
        self.cit_dirty = (odd, rng.integers(0, 5, k), alt, rng.integers(0, 2, k))
        if k:
            self.world.plant("odd_district", self.cit_ids[odd])
            self.world.plant("gender_vocabulary", self.cit_ids[alt])

    def dirty_schemes(self) -> None:
        """Schemes naming a department that does not exist; then ``schemes`` is final."""
        rng = self.rng("dirty.schemes")
        sf = self.scheme_frame
        k = bad_count(self.bad_rate, len(self.sch_ids))
        if k:
            i = np.sort(rng.choice(len(self.sch_ids), size=k, replace=False))
            dc = sf["department_code"].copy()
            dc[i] = np.array(ref.UNKNOWN_DEPARTMENT_CODES, dtype=object)[np.arange(k) % len(ref.UNKNOWN_DEPARTMENT_CODES)]
            sf["department_code"] = dc
            self.world.plant("scheme_unknown_department", self.sch_ids[i])
        self.world.put_whole("citizen", "schemes", frame(**self.scheme_frame))

    _APP_KINDS = ("decision_before_submission", "future_timestamp", "approved_above_requested", "negative_amount")

    def plan_dirty_applications(self) -> None:
        """Each block's share of each kind of dirty application. Only blocks submitted in the
        first 60 % of the period take a share (later ones hold applications too recent to be
        decided); a block that lacks candidates passes the rest on to the next one."""
        rng = self.rng("dirty.applications")
        k = bad_count(self.bad_rate, self.n_apps)
        bounds = [self.app_block_range(b) for b in range(self.n_app_blocks)]
        sizes = np.array([hi - lo for lo, hi in bounds], dtype=float)
        last_day = np.array([self.app_block_last_day(b) - self.d0 for b in range(self.n_app_blocks)])
        weight = np.where(last_day < 0.6 * self.days, sizes, 0.0)
        if not weight.any():
            weight = sizes.copy()
            if len(weight) > 1:
                weight[-1] = 0.0
        self.dirty_quota = {kind: rng.multinomial(k, weight / weight.sum()) for kind in self._APP_KINDS}
        self.dirty_owed = dict.fromkeys(self._APP_KINDS, 0)

    def dirty_applications(self, b: int) -> None:
        """Defects in the applications of block ``b``; then the block's applications are final."""
        rng = self.block("dirty")
        a = self.app
        used = np.array([], np.int64)  # one defect per row
        last = b == self.n_app_blocks - 1

        def choose(candidates: np.ndarray, kind: str) -> np.ndarray:
            k = int(self.dirty_quota[kind][b]) + self.dirty_owed[kind]
            nonlocal used
            cand = candidates[~np.isin(candidates, used)]
            take = min(k, len(cand))
            if last and take < k:
                raise SyntheticDataError(f"not enough rows to make {k} more {kind} rows dirty; raise scale or days")
            self.dirty_owed[kind] = k - take
            out = np.sort(rng.choice(cand, size=take, replace=False)) if take else np.array([], np.int64)
            used = np.concatenate([used, out])
            if take:
                self.world.plant(kind, a["ids"][out])
            return out

        af = self.app_frame
        decided_at = np.where(a["decided_h"], a["decided"], 0)
        sub, req, appr = a["sub"].copy(), af["amount_requested"].copy(), af["amount_approved"].copy()
        decided_rows = np.flatnonzero(a["decided_h"])
        i = choose(decided_rows, "decision_before_submission")
        decided_at[i] = sub[i] - rng.integers(60, 5 * 24 * 60, len(i)) * MINUTE
        i = choose(decided_rows, "future_timestamp")
        decided_at[i] = np.array([ist_midnight(date(2035 + int(y), int(mo), 1)) for y, mo in
                                  zip(rng.integers(0, 4, len(i)), rng.integers(1, 13, len(i)))], dtype=np.int64) + 11 * HOUR
        i = choose(np.flatnonzero((a["status"] == APPROVED) & ~np.isnan(req)), "approved_above_requested")
        appr[i] = np.round(req[i] * rng.uniform(1.1, 1.6, len(i)), -1)
        i = choose(np.flatnonzero(np.isin(a["status"], [REJECTED, WITHDRAWN]) & ~np.isnan(req)), "negative_amount")
        req[i] = -req[i]
        af["decided_at"] = ts_col(decided_at, ~a["decided_h"])
        af["amount_requested"], af["amount_approved"] = req, appr
        self.world.put("citizen", "service_applications", frame(**af))

    # Orphans are extra rows that point at applications the citizen portal never had.
    def orphan_actions(self) -> None:
        """Actions on unknown applications; then ``processing_actions`` is final."""
        rng, W = self.rng("dirty.orphan_actions"), self.world
        k = bad_count_added(self.bad_rate, W.rows["dept"]["processing_actions"])
        if k:
            office = rng.integers(0, len(self.dept_ids), k)
            officer = self.random_officer(rng, office)
            t = self.sample_period_times(rng, k, "office")
            by = self.user_emp[officer]
            ids = new_uuid_bytes(rng, k)
            W.plant("orphan_action", ids)
            W.put("dept", "processing_actions", frame(
                action_id=ids, application_id=new_uuid_bytes(rng, k),
                department_id=self.dept_ids[office], officer_id=self.user_ids[officer],
                action_type=np.full(k, "received", dtype=object),
                step_number=np.ones(k, np.int32), remarks=np.full(k, rules.ACTION_REMARK["received"], dtype=object),
                status=np.full(k, "active", dtype=object), created_by=by, updated_by=by,
                action_at=ts_col(t), assignment_id=nullify(uuid_col(np.zeros(k, "V16")), np.ones(k, bool)),
                created_at=ts_col(t), updated_at=ts_col(t)))
        W.close("dept", "processing_actions")

    def orphan_predictions(self) -> None:
        """Eligibility scores of unknown applications; then ``predictions`` is final."""
        rng, W = self.rng("dirty.orphan_predictions"), self.world
        k = bad_count_added(self.bad_rate, W.rows["aiml"]["predictions"])
        if k:
            t = self.sample_period_times(rng, k, "online")
            cit = (rng.random(k) * np.searchsorted(self.cit_created, t)).astype(np.int64)
            score = np.round(rng.uniform(0.05, 0.95, k), 4)
            model = self.model_for(ELIGIBILITY, t)
            ids = new_uuid_bytes(rng, k)
            W.plant("orphan_prediction", ids)
            W.put("aiml", "predictions", frame(
                prediction_id=ids, model_id=self.model_ids[model],
                use_case_code=np.full(k, ELIGIBILITY, dtype=object),
                batch_prediction_job_id=nullify(uuid_col(np.zeros(k, "V16")), np.ones(k, bool)),
                application_id=new_uuid_bytes(rng, k),
                citizen_id=self.cit_ids[cit], scheme_id=self.sch_ids[rng.integers(0, len(self.sch_ids), k)],
                eligibility_score=score, confidence_score=np.round(rng.uniform(0.55, 0.95, k), 4),
                predicted_label=rules.eligibility_label(score).astype(object),
                status=np.full(k, "active", dtype=object), created_by=np.full(k, "model-serving", dtype=object),
                predicted_at=ts_col(t), created_at=ts_col(t), updated_at=ts_col(t),
                updated_by=np.full(k, "model-serving", dtype=object)))
        W.close("aiml", "predictions")


def dirty_manifest(world: World) -> dict[str, dict]:
    """Per dirty kind planted: its table and the ids of its rows (sorted)."""
    dirty = {}
    for kind in DIRTY_KINDS:
        ids = world.dirty_ids(kind)
        if ids is not None:
            dirty[kind] = {"table": DIRTY_TABLE[kind], "ids": ids}
    return dirty
