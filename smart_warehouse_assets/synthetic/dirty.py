"""The dirty rows: defects planted in known places, exactly counted, and listed in the manifest.

Real portals hold rows that break the rules — orphans, decisions before submission,
district names spelled anyhow. The warehouse must find them, so ``seed`` plants each
kind in ``bad_rate`` of its table's rows, and the manifest lists their ids for the tests
(and for ``world_mismatch`` to recognise the world). ``simulate`` never plants any.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from smart_warehouse_assets.synthetic import reference as ref
from smart_warehouse_assets.synthetic import rules
from smart_warehouse_assets.synthetic.core import (
    HOUR, MINUTE, PRIMARY_KEYS, SyntheticDataError, const, frame, ist_midnight, new_uuid_bytes, nullify, ts_col,
    uuid_col, uuid_strings,
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
    """Builder mixin (see ``world.Period``): plants the dirty rows and finishes their tables."""

    # One random stream for all dirty rows, drawn in a fixed order: the application,
    # citizen and scheme defects, then the orphan actions, then the orphan predictions.
    # Each step runs as soon as its table is otherwise complete, so the table can be loaded
    # while the rest of the world is made.
    def dirty_records(self) -> None:
        """Defects in citizens, schemes and applications; then those three tables are final."""
        self.dirty_rng = rng = self.rng("dirty")
        br = self.bad_rate
        W = self.world
        a = self.app
        used: set[int] = set()

        def choose(candidates: np.ndarray, k: int, kind: str) -> np.ndarray:
            cand = np.array([c for c in candidates if c not in used], dtype=np.int64)
            if len(cand) < k:
                raise SyntheticDataError(f"not enough rows to make {k} {kind} rows dirty; raise scale or days")
            out = np.sort(rng.choice(cand, size=k, replace=False))
            used.update(out.tolist())
            return out

        af = self.app_frame
        n_app = len(a["ids"])
        decided_at = np.where(a["decided_h"], a["decided"], 0)
        sub, req, appr = a["sub"].copy(), af["amount_requested"].copy(), af["amount_approved"].copy()
        decided_rows = np.flatnonzero(a["decided_h"])
        k = bad_count(br, n_app)
        if k:
            i = choose(decided_rows, k, "decision_before_submission")
            decided_at[i] = sub[i] - rng.integers(60, 5 * 24 * 60, k) * MINUTE
            W.dirty["decision_before_submission"] = i
            i = choose(decided_rows, k, "future_timestamp")
            decided_at[i] = np.array([ist_midnight(date(2035 + int(y), int(mo), 1)) for y, mo in
                                      zip(rng.integers(0, 4, k), rng.integers(1, 13, k))]) + 11 * HOUR
            W.dirty["future_timestamp"] = i
            i = choose(np.flatnonzero((a["status"] == APPROVED) & ~np.isnan(req)), k, "approved_above_requested")
            appr[i] = np.round(req[i] * rng.uniform(1.1, 1.6, k), -1)
            W.dirty["approved_above_requested"] = i
            i = choose(np.flatnonzero(np.isin(a["status"], [REJECTED, WITHDRAWN]) & ~np.isnan(req)), k, "negative_amount")
            req[i] = -req[i]
            W.dirty["negative_amount"] = i
        af["decided_at"] = ts_col(decided_at, ~a["decided_h"])
        af["amount_requested"], af["amount_approved"] = req, appr

        cf = self.citizen_frame
        n_c = len(self.cit_ids)
        k = bad_count(br, n_c)
        district = cf["district"].copy()
        gender = cf["gender"].copy()
        used.clear()
        if k:
            i = choose(np.arange(n_c), k, "odd_district")
            styles = rng.integers(0, 5, k)
            for j, s in zip(i, styles):
                d = district[j]
                district[j] = ["  " + d.lower() + " ", d.upper(), " " + d, d.lower(), d.replace(" ", "  ") + "  "][s]
            W.dirty["odd_district"] = i
            i = choose(np.arange(n_c), k, "gender_vocabulary")
            alt = {"male": ("M", "MALE"), "female": ("F", "Female"), "other": ("T", "T")}
            for j, r in zip(i, rng.integers(0, 2, k)):
                gender[j] = alt[gender[j]][r]
            W.dirty["gender_vocabulary"] = i
        cf["district"], cf["gender"] = district, gender

        sf = self.scheme_frame
        k = bad_count(br, len(self.sch_ids))
        if k:
            i = np.sort(rng.choice(len(self.sch_ids), size=k, replace=False))
            dc = sf["department_code"].copy()
            dc[i] = np.array(ref.UNKNOWN_DEPARTMENT_CODES, dtype=object)[np.arange(k) % len(ref.UNKNOWN_DEPARTMENT_CODES)]
            sf["department_code"] = dc
            W.dirty["scheme_unknown_department"] = i
        W.put("citizen", "citizens", frame(**self.citizen_frame))
        W.put("citizen", "schemes", frame(**self.scheme_frame))
        W.put("citizen", "service_applications", frame(**self.app_frame))

    # Orphans are extra rows that point at applications the citizen portal never had.
    def orphan_actions(self) -> None:
        """Actions on unknown applications; then ``processing_actions`` is final."""
        rng, br, W = self.dirty_rng, self.bad_rate, self.world
        act = self.action_frame
        clean = len(act["action_id"])  # the orphans after these have no assignment
        k = bad_count_added(br, len(act["action_id"]))
        if k:
            office = rng.integers(0, len(self.dept_ids), k)
            officer = self.random_officer(rng, office)
            t = self.sample_period_times(rng, k, "office")
            by = self.user_emp[officer]
            extra = dict(action_id=new_uuid_bytes(rng, k), application_id=new_uuid_bytes(rng, k), assignment_id=np.zeros(k, "V16"),
                         department_id=self.dept_ids[office], officer_id=self.user_ids[officer],
                         action_type=np.full(k, "received", dtype=object), action_at=t,
                         step_number=np.ones(k, np.int32), remarks=np.full(k, rules.ACTION_REMARK["received"], dtype=object),
                         status=np.full(k, "active", dtype=object), created_by=by, updated_by=by)
            n0 = len(act["action_id"])
            for key in act:
                act[key] = np.concatenate([act[key], extra[key]])
            W.dirty["orphan_action"] = np.arange(n0, n0 + k)
        at = act.pop("action_at")
        assign = act.pop("assignment_id")
        W.put("dept", "processing_actions", frame(
            **act, action_at=ts_col(at), assignment_id=nullify(uuid_col(assign), np.arange(len(assign)) >= clean),
            created_at=ts_col(at), updated_at=ts_col(at)))

    def orphan_predictions(self) -> None:
        """Eligibility scores of unknown applications; then ``predictions`` is final."""
        rng, br, W = self.dirty_rng, self.bad_rate, self.world
        pf = self.pred_frame
        k = bad_count_added(br, len(pf["prediction_id"]))
        if k:
            t = self.sample_period_times(rng, k, "online")
            cit = (rng.random(k) * np.searchsorted(self.cit_created, t)).astype(np.int64)
            score = np.round(rng.uniform(0.05, 0.95, k), 4)
            model = self.model_for(ELIGIBILITY, t)
            extra = dict(prediction_id=new_uuid_bytes(rng, k), model_id=self.model_ids[model],
                         use_case_code=np.full(k, ELIGIBILITY, dtype=object), application_id=new_uuid_bytes(rng, k),
                         citizen_id=self.cit_ids[cit], scheme_id=self.sch_ids[rng.integers(0, len(self.sch_ids), k)],
                         eligibility_score=score, confidence_score=np.round(rng.uniform(0.55, 0.95, k), 4),
                         predicted_label=rules.eligibility_label(score).astype(object),
                         predicted_at=t, status=np.full(k, "active", dtype=object),
                         created_by=np.full(k, "model-serving", dtype=object))
            n0 = len(pf["prediction_id"])
            for key in pf:
                if key == "batch_prediction_job_id":
                    pf[key] = pl.concat([pf[key], const(None, k).cast(pf[key].dtype)])
                else:
                    pf[key] = np.concatenate([pf[key], extra[key]])
            W.dirty["orphan_prediction"] = np.arange(n0, n0 + k)
        at = pf.pop("predicted_at")
        W.put("aiml", "predictions", frame(**pf, predicted_at=ts_col(at), created_at=ts_col(at), updated_at=ts_col(at),
                                           updated_by=pl.Series(pf["created_by"].tolist())))


def dirty_manifest(world: World) -> dict[str, dict]:
    """Per dirty kind planted: its table and the ids of its rows (sorted)."""
    dirty = {}
    for kind in DIRTY_KINDS:
        if kind not in world.dirty:
            continue
        db, table = DIRTY_TABLE[kind].split(".")
        pk = PRIMARY_KEYS[table]
        ids = uuid_strings(world.frames[db][table][pk].gather(world.dirty[kind]).sort())
        dirty[kind] = {"table": DIRTY_TABLE[kind], "ids": ids}
    return dirty
