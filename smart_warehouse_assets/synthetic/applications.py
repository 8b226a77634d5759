"""The service applications and their status history: the lifecycle every portal follows.

An application is started by a citizen, submitted on a working day, routed to the office
of the scheme's department in the citizen's district, reviewed, and decided (or withdrawn)
days to weeks later, sometimes after the scheme's SLA. What happens to each application
by the end of the period is decided here, once; the department's actions, the notices,
payments and predictions only write it down (they read ``self.app``). The applications
are made in blocks of consecutive submissions, each block with everything that follows
from its applications, so no block needs another's rows.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from smart_warehouse_assets.synthetic import rules
from smart_warehouse_assets.synthetic.core import (
    DAY, HOUR, MINUTE, const, frame, ist_day_number, ist_day_start, new_uuid_bytes, nullify, time_of_day, ts_col,
)
from smart_warehouse_assets.synthetic.rules import APPROVED, DRAFT, REJECTED, SUBMITTED, UNDER_REVIEW, WITHDRAWN

APPLICATIONS_PER_SCALE = 60_000  # per 90 days at scale 1

_STATUSES = np.array(rules.STATUSES)
_CHANNELS = np.array(rules.CHANNELS)


class ApplicationTables:
    """Builder mixin (see ``world.Period``) for ``service_applications`` and their history."""

    def plan_applications(self) -> None:
        """How many applications the period has, on which day each is submitted, and so how
        the blocks split them (the i-th application of the period is submitted on the day
        ``searchsorted(app_cum, i, "right")`` of the period)."""
        # 60,000 applications per 90 days at scale 1; the citizen population does not grow with days.
        self.n_apps = max(20, round(APPLICATIONS_PER_SCALE * self.scale * self.days / 90))
        per_day = self.rng("applications").multinomial(self.n_apps, self.day_weights())
        self.app_cum = np.cumsum(per_day)
        self.n_app_blocks = -(-self.n_apps // self.APPLICATIONS_PER_BLOCK)

    def app_block_range(self, b: int) -> tuple[int, int]:
        """The period's applications ``lo`` to ``hi - 1`` (in submission order) form block ``b``."""
        return b * self.APPLICATIONS_PER_BLOCK, min(self.n_apps, (b + 1) * self.APPLICATIONS_PER_BLOCK)

    def app_block_last_day(self, b: int) -> int:
        """The day number of the last submission of block ``b``."""
        return self.d0 + int(np.searchsorted(self.app_cum, self.app_block_range(b)[1] - 1, side="right"))

    def applications(self, b: int) -> None:
        """The applications of block ``b`` and their fate by the end of the period (left on ``self.app``)."""
        rng = self.block("applications")
        H = self.H
        lo, hi = self.app_block_range(b)
        n = hi - lo
        day = self.d0 + np.searchsorted(self.app_cum, np.arange(lo, hi), side="right")
        channel = rng.choice(len(rules.CHANNELS), size=n, p=rules.CHANNEL_P)
        online = channel < 2
        t = ist_day_start(day) + np.where(online, time_of_day(rng, n, "online"), time_of_day(rng, n, "office"))
        draft = rng.random(n) < rules.DRAFT_SHARE
        delay = np.where(rng.random(n) < 0.7, rng.exponential(3 * HOUR, n), rng.random(n) * 3 * DAY).astype(np.int64)
        delay = np.where(channel >= 2, rng.integers(2, 40, n) * MINUTE, delay)
        created = np.where(draft, t, t - delay)
        order = np.argsort(created, kind="stable")
        channel, t, draft, created = channel[order], t[order], draft[order], created[order]
        sub = np.where(draft, 0, t)
        # The applicant: a citizen registered before the application was started.
        avail = np.searchsorted(self.cit_created, created, side="right")
        cit = (rng.random(n) * np.maximum(avail, 1)).astype(np.int64)
        created = np.maximum(created, self.cit_created[cit] + MINUTE)
        sub = np.where(draft, 0, np.maximum(sub, created + MINUTE))
        sub_eff = np.where(draft, created, sub)  # drafts: a stand-in for the arithmetic below
        p = self.sch_popularity / self.sch_popularity.sum()
        sch = rng.choice(len(p), size=n, p=p)
        sla_at_sub = np.where(sub_eff < self.sch_change_at[sch], self.sch_old_sla[sch], self.sch_sla[sch])
        # Review starts on a working day soon after submission.
        sub_day = ist_day_number(sub_eff)
        review = self.office_time(rng, sub_day + rng.geometric(rules.REVIEW_START_P, n) - 1)
        review = np.where(review <= sub_eff + 30 * MINUTE, sub_eff + rng.integers(45, 240, n) * MINUTE, review)
        # Decision days to weeks later; about one in six after the SLA.
        z = rng.normal(0, 1, n)
        approve = rng.random(n) < rules.approval_odds(z)
        proc_days = rules.processing_days(rng, sla_at_sub)
        decided = self.office_time(rng, sub_day + np.maximum(proc_days, 1))
        decided = np.where(decided <= review + HOUR, review + rng.integers(60, 300, n) * MINUTE, decided)
        withdraws = (~draft) & (rng.random(n) < rules.WITHDRAW_SHARE)
        withdraw_at = sub_eff + ((decided - sub_eff) * rng.uniform(0.1, 0.9, n)).astype(np.int64)
        withdrawn = withdraws & (withdraw_at < H)
        reviewed = (~draft) & (review < H) & ~(withdrawn & (withdraw_at <= review))
        decided_h = (~draft) & (decided < H) & ~withdraws
        status = np.where(draft, DRAFT, np.where(withdrawn, WITHDRAWN, np.where(
            decided_h, np.where(approve, APPROVED, REJECTED), np.where(reviewed, UNDER_REVIEW, SUBMITTED))))
        # Amounts: the benefit in force at submission (or at start, for drafts).
        at = np.where(draft, created, sub)
        benefit = np.where(at < self.sch_change_at[sch], self.sch_old_benefit[sch], self.sch_benefit[sch])
        partial = rng.random(n) < rules.PARTIAL_REQUEST_SHARE
        req = np.where(partial, np.maximum(rules.MIN_AMOUNT, np.round(benefit * rng.uniform(*rules.REQUEST_FRACTION, n), -2)),
                       benefit)
        appr = np.where(rng.random(n) < rules.FULL_APPROVAL_SHARE, req,
                        np.maximum(rules.MIN_AMOUNT, np.round(req * rng.uniform(*rules.APPROVAL_FRACTION, n), -2)))
        appr = np.minimum(appr, req)
        appr = np.where(status == APPROVED, appr, np.nan)
        # Routing: the scheme's department office in the applicant's district, else its HQ.
        dept = self.sch_dept_idx[sch]
        office = self.office_lookup()[dept, self.cit_dist[cit]]
        officer = self.random_officer(rng, office)
        last_event = np.maximum.reduce([created, np.where(draft, 0, sub), np.where(reviewed, review, 0),
                                        np.where(decided_h, decided, 0), np.where(withdrawn, withdraw_at, 0)])
        ids = new_uuid_bytes(rng, n)
        number = ("SW" + pl.Series(ist_day_number(created)).cast(pl.Date).dt.strftime("%Y%m%d") + "-"
                  + pl.Series(np.arange(lo + 1, hi + 1)).cast(pl.String).str.zfill(7))
        created_by = np.array(rules.CHANNEL_ACTOR, dtype=object)[channel]
        updated_by = np.where(withdrawn, "citizen", np.where(decided_h | reviewed, self.user_emp[officer], created_by))
        self.app = dict(ids=ids, cit=cit, sch=sch, channel=channel, draft=draft, created=created, sub=sub,
                        review=review, decided=decided, approve=approve, withdraws=withdraws,
                        withdraw_at=withdraw_at, withdrawn=withdrawn, reviewed=reviewed, decided_h=decided_h,
                        status=status, req=req, appr=appr, office=office, officer=officer, z=z,
                        sla=sla_at_sub, last_event=last_event)
        self.app_frame = dict(
            application_id=ids, application_number=number, citizen_id=self.cit_ids[cit],
            scheme_id=self.sch_ids[sch], status=_STATUSES[status].astype(object), channel=_CHANNELS[channel].astype(object),
            submitted_at=ts_col(sub, draft), decided_at=ts_col(decided, ~decided_h),
            amount_requested=req, amount_approved=appr,
            remarks=nullify(pl.Series(np.where(status == REJECTED, "Eligibility conditions not met",
                                               "Approved as per scheme norms").astype(object).tolist()),
                            ~decided_h),
            created_at=ts_col(created), updated_at=ts_col(last_event),
            created_by=created_by, updated_by=updated_by.astype(object),
        )

    def history(self) -> None:
        """Every status an application went through, from draft to where it stands."""
        rng = self.block("application_status_history")
        a = self.app
        n = len(a["ids"])
        idx = np.arange(n)
        decision = np.where(a["approve"], APPROVED, REJECTED)
        parts = [
            (idx, np.full(n, DRAFT), a["created"]),
            (idx[~a["draft"]], np.full((~a["draft"]).sum(), SUBMITTED), a["sub"][~a["draft"]]),
            (idx[a["reviewed"]], np.full(a["reviewed"].sum(), UNDER_REVIEW), a["review"][a["reviewed"]]),
            (idx[a["decided_h"]], decision[a["decided_h"]], a["decided"][a["decided_h"]]),
            (idx[a["withdrawn"]], np.full(a["withdrawn"].sum(), WITHDRAWN), a["withdraw_at"][a["withdrawn"]]),
        ]
        app = np.concatenate([p[0] for p in parts])
        to = np.concatenate([p[1] for p in parts])
        at = np.concatenate([p[2] for p in parts])
        order = np.lexsort((at, app))
        app, to, at = app[order], to[order], at[order]
        first = np.r_[True, app[1:] != app[:-1]]
        frm = np.where(first, -1, np.r_[-1, to[:-1]])
        m = len(app)
        by = np.where(to == DRAFT, "citizen", np.where(to == SUBMITTED, "citizen", np.where(
            to == WITHDRAWN, "citizen", self.user_emp[a["officer"][app]]))).astype(object)
        self.world.put("citizen", "application_status_history", frame(
            status_history_id=new_uuid_bytes(rng, m), application_id=a["ids"][app],
            from_status=nullify(pl.Series(_STATUSES[np.maximum(frm, 0)].astype(object).tolist()), frm < 0),
            to_status=_STATUSES[to].astype(object), changed_at=ts_col(at), changed_by=by,
            remarks=nullify(pl.Series(["Decision recorded"] * m), ~np.isin(to, [APPROVED, REJECTED])),
            status=const("active", m), created_at=ts_col(at), updated_at=ts_col(at),
            created_by=by, updated_by=by,
        ))

