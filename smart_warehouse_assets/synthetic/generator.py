"""Seed the four portal databases with a synthetic, reproducible world.

The world is built column by column with numpy (one random stream per table) and then
bulk-loaded with COPY. Every id and timestamp derives from the seed and the period start,
so two runs with the same arguments produce the same bytes in every table.

The world, in short: citizens register (most before the period), apply to schemes on
working days, the application is routed to the office of the scheme's department in the
citizen's district, officers act on it step by step, and a decision follows days to weeks
later (sometimes after the scheme's SLA). An eligibility model scores each submission.
Monitoring records the platform's health. A small, exactly counted share of rows is
made dirty in known ways and listed in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from psycopg import sql

from smart_warehouse_assets.synthetic import reference as ref
from smart_warehouse_assets.synthetic.core import (
    DAY, HOUR, MINUTE, PORTALS, PRIMARY_KEYS, TABLES, US, Calendar, Streams,
    DatabaseLoad, PortalsHoldData, SyntheticDataError, connect, const, day_number, frame, ist_day_number,
    ist_midnight, ist_today, new_uuid_bytes, nullify, random_hex, time_of_day, ts_col, uuid_col,
    uuid_strings, uuid_text,
)

STATUSES = np.array(["draft", "submitted", "under_review", "approved", "rejected", "withdrawn"])
DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, WITHDRAWN = range(6)
CHANNELS = np.array(["web", "mobile", "csc", "counter"])
CHANNEL_P = np.array([0.45, 0.30, 0.17, 0.08])

CITIZENS_PER_SCALE = 20_000
APPLICATIONS_PER_SCALE = 60_000

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

ELIGIBILITY = "ELIGIBILITY_SCORING"
SLA_USE_CASE = "SLA_BREACH_PREDICTION"
DROPOUT_USE_CASE = "DROPOUT_PREDICTION"


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


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def jdump(values: Mapping) -> str:
    return json.dumps(values, separators=(", ", ": "), sort_keys=True)


@dataclass
class World:
    """Everything generated, as frames per database and table, plus the manifest parts.
    ``sink`` receives each table once it is final (the loader starts on it while the rest
    of the world is made)."""
    frames: dict[str, dict[str, pl.DataFrame]] = field(default_factory=lambda: {k: {} for k in PORTALS})
    dirty: dict[str, dict] = field(default_factory=dict)
    sink: Callable[[str, str, pl.DataFrame], None] | None = None

    def put(self, db: str, table: str, df: pl.DataFrame) -> None:
        self.frames[db][table] = df
        if self.sink is not None:
            self.sink(db, table, df)


# ============================================================================ builder

class Builder:
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

    # ------------------------------------------------------------------ helpers
    def period_days(self) -> np.ndarray:
        return np.arange(self.d0, self.d0 + self.days)

    def sample_period_times(self, rng: np.random.Generator, n: int, kind: str = "online") -> np.ndarray:
        """n instants in the period, following the working-day submission pattern."""
        days = self.period_days()
        w = self.cal.submission_weight(days) * (1.0 + 0.15 * np.arange(self.days) / max(self.days, 1))
        chosen = days[rng.choice(self.days, size=n, p=w / w.sum())]
        return chosen * DAY - (5 * HOUR + 30 * MINUTE) + time_of_day(rng, n, kind)

    def office_time(self, rng: np.random.Generator, day_numbers: np.ndarray) -> np.ndarray:
        d = self.cal.next_working(day_numbers)
        return d * DAY - (5 * HOUR + 30 * MINUTE) + time_of_day(rng, len(d), "office")

    # ------------------------------------------------------------------ reference tables
    def departments(self) -> None:
        rng = self.rng("departments")
        codes, names, types, parents, districts = ["STATE"], ["Government of the State - SMART Services"], ["state"], [-1], [None]
        for code, name in ref.DEPARTMENTS:
            codes.append(code); names.append(name); types.append("department"); parents.append(0); districts.append(None)
        for di, (code, name) in enumerate(ref.DEPARTMENTS, start=1):
            for district in ref.OFFICE_DISTRICTS:
                short = district.split()[0][:4].upper()
                codes.append(f"{code}-{short}"); names.append(f"{name}, {district} District Office")
                types.append("district_office"); parents.append(di); districts.append(district)
        n = len(codes)
        ids = new_uuid_bytes(rng, n)
        created = self.S - rng.integers(900, 2000, n) * DAY + time_of_day(rng, n, "office")
        created[0] = self.S - 2100 * DAY
        updated = created.copy()
        names = np.array(names, dtype=object)
        # One department is renamed during the period.
        renamed = codes.index(ref.RENAMED_DEPARTMENT[0])
        old_name = names[renamed]
        names[renamed] = ref.RENAMED_DEPARTMENT[1]
        rename_at = self.office_time(rng, np.array([self.d0 + int(self.days * 0.4)]))[0]
        updated[renamed] = rename_at
        parents = np.array(parents)
        parent_ids = ids[np.maximum(parents, 0)]  # masked where there is no parent
        self.dept_codes = np.array(codes, dtype=object)
        self.dept_ids = ids
        self.dept_type = np.array(types, dtype=object)
        self.dept_district = np.array(districts, dtype=object)
        self.dept_parent = parents
        self.dept_created = created
        self.dept_rename = (renamed, old_name, rename_at)
        phone = np.array([f"0{rng.integers(11, 99)}{rng.integers(2000000, 9999999)}" for _ in range(n)], dtype=object)
        df = frame(
            department_id=ids, department_code=self.dept_codes, department_name=names,
            parent_department_id=nullify(uuid_col(parent_ids), parents < 0),
            department_type=self.dept_type, district=self.dept_district,
            email=np.array([f"{c.lower()}@dept.example.in" for c in codes], dtype=object), phone=phone,
            status=const("active", n), created_at=ts_col(created), updated_at=ts_col(updated),
            created_by=const("setup", n),
            updated_by=pl.Series(np.where(updated > created, "dept-admin", "setup")),
        )
        self.world.put("dept", "departments", df)

    def designations(self) -> None:
        rng = self.rng("designations")
        n = len(ref.DESIGNATIONS)
        ids = new_uuid_bytes(rng, n)
        created = np.full(n, self.S - 2100 * DAY)
        self.desig_ids = ids
        self.desig_can_approve = np.array([d[3] for d in ref.DESIGNATIONS])
        df = frame(
            designation_id=ids, designation_code=np.array([d[0] for d in ref.DESIGNATIONS], dtype=object),
            designation_name=np.array([d[1] for d in ref.DESIGNATIONS], dtype=object),
            grade_level=pl.Series([d[2] for d in ref.DESIGNATIONS], dtype=pl.Int16),
            can_approve=self.desig_can_approve, status=const("active", n),
            created_at=ts_col(created), updated_at=ts_col(created),
            created_by=const("setup", n), updated_by=const("setup", n),
        )
        self.world.put("dept", "designations", df)

    def dept_users(self) -> None:
        rng = self.rng("dept_users")
        per_office = np.where(self.dept_type == "district_office", max(3, round(4 * self.scale)),
                              np.where(self.dept_type == "department", max(2, round(3 * self.scale)), 2))
        office = np.repeat(np.arange(len(self.dept_ids)), per_office)
        n = len(office)
        rank = np.concatenate([np.arange(k) for k in per_office])
        # District offices: the first user approves (Tahsildar); the rest clerks to section officers.
        district_pool = np.array([0, 1, 2, 3, 4])
        hq_pool = np.array([4, 6, 7, 8])
        desig = np.where(self.dept_type[office] == "district_office",
                         np.where(rank == 0, 5, district_pool[rng.integers(0, 5, n)]),
                         np.where(rank == 0, 9 - (self.dept_type[office] == "department"), hq_pool[rng.integers(0, 4, n)]))
        gender = rng.random(n) < 0.5
        first = np.where(gender, np.array(ref.FEMALE_NAMES, dtype=object)[rng.integers(0, len(ref.FEMALE_NAMES), n)],
                         np.array(ref.MALE_NAMES, dtype=object)[rng.integers(0, len(ref.MALE_NAMES), n)])
        last = np.array(ref.SURNAMES, dtype=object)[rng.integers(0, len(ref.SURNAMES), n)]
        ids = new_uuid_bytes(rng, n)
        created = np.maximum(self.dept_created[office] + DAY, self.S - rng.integers(30, 1800, n) * DAY)
        created = (ist_day_number(created)) * DAY - 5 * HOUR - 30 * MINUTE + 10 * HOUR + rng.integers(0, 6 * 60, n) * MINUTE
        roles = np.where(self.desig_can_approve[desig], "supervisor", "officer").astype(object)
        roles[rank == 1] = "admin"
        serial = np.arange(1, n + 1)
        emp = np.array([f"EMP{s:06d}" for s in serial], dtype=object)
        email = np.array([f"{f.lower()}.{l.lower().replace(chr(39), '')}.{s}@dept.example.in"
                          for f, l, s in zip(first, last, serial)], dtype=object)
        phone = np.array([f"+91{v}" for v in rng.integers(6_000_000_000, 9_999_999_999, n)], dtype=object)
        self.user_ids, self.user_office, self.user_created = ids, office, created
        self.user_emp = emp
        self.office_users_start = np.concatenate([[0], np.cumsum(per_office)[:-1]])
        self.office_users_count = per_office
        df = frame(
            dept_user_id=ids, department_id=self.dept_ids[office], designation_id=self.desig_ids[desig],
            employee_code=emp, full_name=np.array([f"{a} {b}" for a, b in zip(first, last)], dtype=object),
            email=email, phone=phone, role=roles,
            joined_on=pl.Series(ist_day_number(created)).cast(pl.Date),
            status=const("active", n), created_at=ts_col(created), updated_at=ts_col(created),
            created_by=const("dept-admin", n), updated_by=const("dept-admin", n),
        )
        self.world.put("dept", "dept_users", df)

    def office_lookup(self) -> np.ndarray:
        """[department index, district index] -> the office that handles it (else the department)."""
        names = [d[1] for d in ref.DISTRICTS]
        lut = np.repeat(np.arange(len(self.dept_codes))[:, None], len(names), axis=1)
        for i in np.flatnonzero(self.dept_type == "district_office"):
            lut[self.dept_parent[i], names.index(self.dept_district[i])] = i
        return lut

    def random_officer(self, rng: np.random.Generator, offices: np.ndarray) -> np.ndarray:
        """A random officer (index into dept_users) of each office."""
        return self.office_users_start[offices] + (rng.random(len(offices)) * self.office_users_count[offices]).astype(np.int64)

    def schemes(self) -> None:
        rng = self.rng("schemes")
        sch = ref.SCHEMES
        n = len(sch)
        ids = new_uuid_bytes(rng, n)
        created = self.S - rng.integers(120, 1500, n) * DAY + time_of_day(rng, n, "office")
        benefit = np.array([np.nan if s[4] is None else s[4] for s in sch])
        sla = np.array([s[5] for s in sch])
        # Some schemes change their benefit or SLA during the period.
        n_change = max(2, round(n * 0.1))
        changed = rng.choice(n, size=n_change, replace=False)
        change_at = np.full(n, np.iinfo(np.int64).max)
        change_at[changed] = self.office_time(rng, self.d0 + rng.integers(3, max(4, self.days - 2), n_change))
        old_benefit, old_sla = benefit.copy(), sla.copy()
        for i in changed:
            if not np.isnan(benefit[i]) and rng.random() < 0.6:
                benefit[i] = round(benefit[i] * rng.choice([1.1, 1.2, 1.25]), -1)
            else:
                sla[i] = max(5, sla[i] + int(rng.choice([-5, -3, 5, 7])))
        updated = np.where(change_at < np.iinfo(np.int64).max, change_at, created)
        dept_code = np.array([s[3] for s in sch], dtype=object)
        self.sch_ids, self.sch_codes = ids, np.array([s[0] for s in sch], dtype=object)
        self.sch_category = np.array([s[2] for s in sch], dtype=object)
        self.sch_dept_code = dept_code
        self.sch_dept_idx = np.array([list(self.dept_codes).index(c) for c in dept_code])
        self.sch_benefit, self.sch_old_benefit = benefit, old_benefit
        self.sch_sla, self.sch_old_sla = sla, old_sla
        self.sch_change_at, self.sch_created = change_at, created
        self.sch_ndocs = np.array([s[6] for s in sch])
        self.sch_popularity = rng.lognormal(0.0, 0.8, n)
        self.sch_name = np.array([s[1] for s in sch], dtype=object)
        self.scheme_frame = dict(
            scheme_id=ids, scheme_code=self.sch_codes, scheme_name=self.sch_name,
            category=self.sch_category, department_code=dept_code.copy(),
            description=np.array([f"{s[1]} under the {s[3]} department." for s in sch], dtype=object),
            benefit_amount=benefit, sla_days=pl.Series(sla, dtype=pl.Int32),
            launched_on=pl.Series(ist_day_number(created)).cast(pl.Date),
            status=const("active", n), created_at=ts_col(created), updated_at=ts_col(updated),
            created_by=const("scheme-admin", n),
            updated_by=pl.Series(np.where(updated > created, "scheme-admin", "scheme-admin")),
        )

    def workflows(self) -> None:
        rng = self.rng("workflows")
        n = len(self.sch_ids)
        ids = new_uuid_bytes(rng, n)
        steps = rng.integers(3, 6, n)
        created = self.sch_created + HOUR
        self.wf_ids = ids
        self.world.put("dept", "workflows", frame(
            workflow_id=ids, workflow_code=np.array([f"WF-{c}" for c in self.sch_codes], dtype=object),
            workflow_name=np.array([f"{m} processing" for m in self.sch_name], dtype=object),
            scheme_code=self.sch_codes, department_id=self.dept_ids[self.sch_dept_idx],
            total_steps=pl.Series(steps, dtype=pl.Int16), version=pl.Series(np.ones(n, dtype=np.int32)),
            status=const("active", n), created_at=ts_col(created), updated_at=ts_col(created),
            created_by=const("dept-admin", n), updated_by=const("dept-admin", n),
        ))
        wf = np.repeat(np.arange(n), steps)
        step = np.concatenate([np.arange(1, k + 1) for k in steps])
        last = step == steps[wf]
        desig = np.minimum(np.concatenate([np.sort(rng.choice([1, 2, 3, 4, 5, 6], k, replace=False)) for k in steps]), 9)
        desig = np.where(last, np.maximum(desig, 5), desig)
        m = len(wf)
        actions = np.array(["receive and register", "check documents", "field verification",
                            "recommend", "approve or reject"], dtype=object)
        self.world.put("dept", "approval_chains", frame(
            approval_chain_id=new_uuid_bytes(rng, m), workflow_id=ids[wf], step_number=pl.Series(step, dtype=pl.Int16),
            designation_id=self.desig_ids[desig],
            action_required=np.where(last, "approve or reject", actions[np.minimum(step - 1, 3)]).astype(object),
            sla_hours=pl.Series(rng.choice([24, 48, 72, 120], m), dtype=pl.Int32), is_final=last,
            status=const("active", m), created_at=ts_col(created[wf]), updated_at=ts_col(created[wf]),
            created_by=const("dept-admin", m), updated_by=const("dept-admin", m),
        ))

    # ------------------------------------------------------------------ citizens
    def citizens(self) -> None:
        rng = self.rng("citizens")
        n = max(10, round(CITIZENS_PER_SCALE * self.scale))
        before = rng.random(n) < 0.7
        created = np.where(before, self.S - rng.integers(1, 730, n) * DAY + time_of_day(rng, n, "online"),
                           self.sample_period_times(rng, n))
        created = np.sort(created)
        ids = new_uuid_bytes(rng, n)
        g = rng.choice(3, size=n, p=[0.49, 0.49, 0.02])
        gender = np.array(["male", "female", "other"], dtype=object)[g]
        male = np.array(ref.MALE_NAMES, dtype=object)[rng.integers(0, len(ref.MALE_NAMES), n)]
        female = np.array(ref.FEMALE_NAMES, dtype=object)[rng.integers(0, len(ref.FEMALE_NAMES), n)]
        other = np.array(ref.OTHER_NAMES, dtype=object)[rng.integers(0, len(ref.OTHER_NAMES), n)]
        first = np.where(g == 0, male, np.where(g == 1, female, other))
        last = np.array(ref.SURNAMES, dtype=object)[rng.integers(0, len(ref.SURNAMES), n)]
        weights = np.array([3.0 if d[1] in ref.METRO_DISTRICTS else 1.0 for d in ref.DISTRICTS])
        dist = rng.choice(len(ref.DISTRICTS), size=n, p=weights / weights.sum())
        age_days = ((18 + rng.beta(2.0, 3.2, n) * 67) * 365.25).astype(np.int64)
        dob_day = self.d0 - age_days
        has_email = rng.random(n) < 0.72
        num = rng.integers(1, 999, n)
        status = rng.choice(np.array(["active", "inactive", "deleted"], dtype=object), size=n, p=[0.975, 0.02, 0.005])
        channel_created = np.where(rng.random(n) < 0.8, "self-registration", "csc-operator")
        # A few citizens move to another district during the period.
        updated = created.copy()
        move_from = np.full(n, -1)
        movable = np.flatnonzero(created < self.H - 5 * DAY)
        movers = rng.choice(movable, size=max(1, round(0.03 * n)), replace=False) if len(movable) else np.array([], int)
        lo = np.maximum(created[movers], self.S) + HOUR
        move_at = lo + (rng.random(len(movers)) * (self.H - HOUR - lo)).astype(np.int64)
        new_dist = (dist[movers] + rng.integers(1, len(ref.DISTRICTS), len(movers))) % len(ref.DISTRICTS)
        move_from[movers] = dist[movers]
        dist[movers] = new_dist
        updated[movers] = move_at
        self.cit_ids, self.cit_created, self.cit_dist, self.cit_gender = ids, created, dist, gender
        self.cit_moves = (movers, move_at, move_from[movers], new_dist)
        self.cit_has_email = has_email
        self.cit_age_days = age_days
        D = ref.DISTRICTS
        self.citizen_frame = dict(
            citizen_id=ids,
            full_name=pl.Series(first.tolist()) + " " + pl.Series(last.tolist()),
            email=nullify(pl.Series([f"{a.lower()}.{b.lower().replace(chr(39), '')}{k}@{d}" for a, b, k, d in
                                     zip(first, last, num, np.array(ref.EMAIL_DOMAINS, dtype=object)[rng.integers(0, 4, n)])]),
                          ~has_email),
            phone=nullify(pl.Series([f"+91{v}" for v in rng.integers(6_000_000_000, 9_999_999_999, n)]),
                          rng.random(n) < 0.04),
            id_number_hash=pl.Series([hashlib.sha256(b"smart-citizen-id:" + u).hexdigest() for u in uuid_text(ids)]),
            date_of_birth=pl.Series(dob_day - rng.integers(0, 365, n)).cast(pl.Date),
            gender=gender,
            address_line=pl.Series([f"{h}, {w} {k}" for h, w, k in zip(
                rng.integers(1, 400, n), np.array(ref.STREET_WORDS, dtype=object)[rng.integers(0, len(ref.STREET_WORDS), n)],
                np.array(ref.STREET_KINDS, dtype=object)[rng.integers(0, len(ref.STREET_KINDS), n)])]),
            city=np.array([D[i][2] for i in dist], dtype=object),
            district=np.array([D[i][1] for i in dist], dtype=object),
            state=np.array([D[i][0] for i in dist], dtype=object),
            pincode=pl.Series([f"{D[i][3]}{k:03d}" for i, k in zip(dist, rng.integers(1, 60, n))]),
            preferred_language=np.array(ref.LANGUAGES, dtype=object)[rng.integers(0, len(ref.LANGUAGES), n)],
            status=status, created_at=ts_col(created), updated_at=ts_col(updated),
            created_by=channel_created.astype(object),
            updated_by=np.where(updated > created, "citizen", channel_created).astype(object),
        )

    # ------------------------------------------------------------------ applications
    def applications(self) -> None:
        rng = self.rng("applications")
        H = self.H
        # 60,000 applications per 90 days at scale 1; the citizen population does not grow with days.
        n = max(20, round(APPLICATIONS_PER_SCALE * self.scale * self.days / 90))
        channel = rng.choice(4, size=n, p=CHANNEL_P)
        online = channel < 2
        t = np.where(online, self.sample_period_times(rng, n, "online"), self.sample_period_times(rng, n, "office"))
        draft = rng.random(n) < 0.05
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
        review = self.office_time(rng, sub_day + rng.geometric(0.55, n) - 1)
        review = np.where(review <= sub_eff + 30 * MINUTE, sub_eff + rng.integers(45, 240, n) * MINUTE, review)
        # Decision days to weeks later; about one in six after the SLA.
        z = rng.normal(0, 1, n)
        approve = rng.random(n) < sigmoid(1.7 * z + 0.75)
        proc_days = np.ceil(sla_at_sub * rng.lognormal(np.log(0.62), 0.45, n)).astype(np.int64)
        decided = self.office_time(rng, sub_day + np.maximum(proc_days, 1))
        decided = np.where(decided <= review + HOUR, review + rng.integers(60, 300, n) * MINUTE, decided)
        withdraws = (~draft) & (rng.random(n) < 0.04)
        withdraw_at = sub_eff + ((decided - sub_eff) * rng.uniform(0.1, 0.9, n)).astype(np.int64)
        withdrawn = withdraws & (withdraw_at < H)
        reviewed = (~draft) & (review < H) & ~(withdrawn & (withdraw_at <= review))
        decided_h = (~draft) & (decided < H) & ~withdraws
        status = np.where(draft, DRAFT, np.where(withdrawn, WITHDRAWN, np.where(
            decided_h, np.where(approve, APPROVED, REJECTED), np.where(reviewed, UNDER_REVIEW, SUBMITTED))))
        # Amounts: the benefit in force at submission (or at start, for drafts).
        at = np.where(draft, created, sub)
        benefit = np.where(at < self.sch_change_at[sch], self.sch_old_benefit[sch], self.sch_benefit[sch])
        partial = rng.random(n) < 0.25
        req = np.where(partial, np.maximum(100.0, np.round(benefit * rng.uniform(0.3, 1.0, n), -2)), benefit)
        appr = np.where(rng.random(n) < 0.8, req, np.maximum(100.0, np.round(req * rng.uniform(0.5, 1.0, n), -2)))
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
                  + pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(7))
        created_by = np.array(["citizen", "citizen", "csc-operator", "counter-clerk"], dtype=object)[channel]
        updated_by = np.where(withdrawn, "citizen", np.where(decided_h | reviewed, self.user_emp[officer], created_by))
        self.app = dict(ids=ids, cit=cit, sch=sch, channel=channel, draft=draft, created=created, sub=sub,
                        review=review, decided=decided, approve=approve, withdraws=withdraws,
                        withdraw_at=withdraw_at, withdrawn=withdrawn, reviewed=reviewed, decided_h=decided_h,
                        status=status, req=req, appr=appr, office=office, officer=officer, z=z,
                        sla=sla_at_sub, last_event=last_event)
        self.app_frame = dict(
            application_id=ids, application_number=number, citizen_id=self.cit_ids[cit],
            scheme_id=self.sch_ids[sch], status=STATUSES[status].astype(object), channel=CHANNELS[channel].astype(object),
            submitted_at=ts_col(sub, draft), decided_at=ts_col(decided, ~decided_h),
            amount_requested=req, amount_approved=appr,
            remarks=nullify(pl.Series(np.where(status == REJECTED, "Eligibility conditions not met",
                                               "Approved as per scheme norms").astype(object).tolist()),
                            ~decided_h),
            created_at=ts_col(created), updated_at=ts_col(last_event),
            created_by=created_by, updated_by=updated_by.astype(object),
        )

    # ------------------------------------------------------------------ per-application events
    def history(self) -> None:
        rng = self.rng("application_status_history")
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
            from_status=nullify(pl.Series(STATUSES[np.maximum(frm, 0)].astype(object).tolist()), frm < 0),
            to_status=STATUSES[to].astype(object), changed_at=ts_col(at), changed_by=by,
            remarks=nullify(pl.Series(["Decision recorded"] * m), ~np.isin(to, [APPROVED, REJECTED])),
            status=const("active", m), created_at=ts_col(at), updated_at=ts_col(at),
            created_by=by, updated_by=by,
        ))

    def actions(self) -> None:
        rng = self.rng("processing_actions")
        a = self.app
        H = self.H
        sub_ok = ~a["draft"]
        idx = np.flatnonzero(sub_ok)
        k = len(idx)
        review, decided = a["review"][idx], a["decided"][idx]
        gap = decided - review
        f = np.sort(rng.uniform(0.05, 0.95, (k, 3)), axis=1)
        t_doc = review + (gap * f[:, 0]).astype(np.int64)
        t_field = review + (gap * f[:, 1]).astype(np.int64)
        t_ret = review + (gap * (f[:, 0] + f[:, 1]) / 2).astype(np.int64)
        t_fwd = review + (gap * f[:, 2]).astype(np.int64)
        field_p = np.where(np.isin(self.sch_category[a["sch"][idx]], ["housing", "agriculture", "disaster_relief", "pension"]), 0.7, 0.2)
        has_field = rng.random(k) < field_p
        has_ret = rng.random(k) < 0.08
        wd = a["withdraws"][idx]
        wat = np.where(wd, a["withdraw_at"][idx], np.iinfo(np.int64).max)
        dec_type = np.where(a["approve"][idx], 5, 6)
        types = np.array(["received", "document_check", "field_verification", "forwarded", "returned",
                          "approved", "rejected", "closed"], dtype=object)
        slots = [
            (np.zeros(k, int), review, np.ones(k, bool)),
            (np.ones(k, int), t_doc, np.ones(k, bool)),
            (np.full(k, 4), t_ret, has_ret),
            (np.full(k, 2), t_field, has_field),
            (np.full(k, 3), t_fwd, np.ones(k, bool)),
            (dec_type, decided, ~wd),
        ]
        apps, ty, at = [], [], []
        for typ, t, exists in slots:
            ok = exists & (t < H) & (t < wat)
            apps.append(idx[ok]); ty.append(typ[ok]); at.append(t[ok])
        closed = a["withdrawn"][idx]
        apps.append(idx[closed]); ty.append(np.full(closed.sum(), 7)); at.append(a["withdraw_at"][idx][closed])
        app, typ, at = np.concatenate(apps), np.concatenate(ty), np.concatenate(at)
        order = np.lexsort((at, app))
        app, typ, at = app[order], typ[order], at[order]
        first = np.r_[True, app[1:] != app[:-1]]
        starts = np.flatnonzero(first)
        step = np.arange(len(app)) - np.repeat(starts, np.diff(np.r_[starts, len(app)])) + 1
        # Remember each application's document-check time for the verifications.
        doc_check = np.full(len(a["ids"]), -1, dtype=np.int64)
        sel = typ == 1
        doc_check[app[sel]] = at[sel]
        self.doc_check = doc_check
        self.action_count = np.bincount(app, minlength=len(a["ids"]))
        self.assignment_ids = new_uuid_bytes(self.rng("application_assignments.ids"), len(a["ids"]))
        office, officer = a["office"][app], a["officer"][app]
        m = len(app)
        remarks = np.array(["Application received", "Documents checked", "Field visit done", "Forwarded for decision",
                            "Returned for clarification", "Approved", "Rejected", "Closed on withdrawal"], dtype=object)
        by = self.user_emp[officer]
        self.action_frame = dict(
            action_id=new_uuid_bytes(rng, m), application_id=a["ids"][app], assignment_id=self.assignment_ids[app],
            department_id=self.dept_ids[office], officer_id=self.user_ids[officer],
            action_type=types[typ], action_at=at, step_number=step.astype(np.int32), remarks=remarks[typ],
            status=np.full(m, "active", dtype=object), created_by=by, updated_by=by,
        )
        self.last_action_at = np.zeros(len(a["ids"]), dtype=np.int64)
        np.maximum.at(self.last_action_at, app, at)

    def assignments(self) -> None:
        rng = self.rng("application_assignments")
        a = self.app
        idx = np.flatnonzero(~a["draft"])
        k = len(idx)
        assigned = a["sub"][idx] + rng.integers(1, 30, k) * MINUTE
        done = a["decided_h"][idx] | a["withdrawn"][idx]
        completed = np.where(a["decided_h"][idx], a["decided"][idx], a["withdraw_at"][idx])
        st = np.where(done, "completed", np.where(a["reviewed"][idx], "in_progress", "assigned")).astype(object)
        prio = np.where(np.isin(self.sch_category[a["sch"][idx]], ["health", "disaster_relief"]), "high", "normal").astype(object)
        prio[rng.random(k) < 0.03] = "urgent"
        updated = np.maximum(assigned, np.where(done, completed, np.where(a["reviewed"][idx], a["review"][idx], assigned)))
        self.world.put("dept", "application_assignments", frame(
            assignment_id=self.assignment_ids[idx], application_id=a["ids"][idx],
            department_id=self.dept_ids[a["office"][idx]], officer_id=self.user_ids[a["officer"][idx]],
            workflow_id=self.wf_ids[a["sch"][idx]], assigned_at=ts_col(assigned),
            completed_at=ts_col(completed, ~done), priority=prio, assignment_status=st,
            status=const("active", k), created_at=ts_col(assigned), updated_at=ts_col(updated),
            created_by=const("auto-router", k), updated_by=self.user_emp[a["officer"][idx]],
        ))
        self.assigned_at = np.zeros(len(a["ids"]), dtype=np.int64)
        self.assigned_at[idx] = assigned

    def documents(self) -> None:
        rng = self.rng("documents")
        a = self.app
        n = len(a["ids"])
        ndoc = np.where(a["draft"], rng.integers(0, 2, n), self.sch_ndocs[a["sch"]])
        app = np.repeat(np.arange(n), ndoc)
        j = np.arange(len(app)) - np.repeat(np.cumsum(ndoc) - ndoc, ndoc)
        m = len(app)
        cats = sorted(ref.DOCUMENT_TYPES_BY_CATEGORY)
        width = max(len(v) for v in ref.DOCUMENT_TYPES_BY_CATEGORY.values())
        lut = np.array([[v[min(k, len(v) - 1)] for k in range(width)]
                        for v in (ref.DOCUMENT_TYPES_BY_CATEGORY[c] for c in cats)], dtype=object)
        cat_i = np.searchsorted(np.array(cats, dtype=object), self.sch_category)[a["sch"][app]]
        types = lut[cat_i, np.minimum(j, width - 1)]
        created, sub = a["created"][app], a["sub"][app]
        uploaded = np.where(a["draft"][app], created + (j + 1) * 2 * MINUTE,
                            created + ((sub - created) * (j + 1) / (ndoc[app] + 1)).astype(np.int64))
        mime_i = rng.choice(3, size=m, p=[0.6, 0.3, 0.1])
        mime = np.array(["application/pdf", "image/jpeg", "image/png"], dtype=object)[mime_i]
        ext = np.array(["pdf", "jpg", "png"], dtype=object)[mime_i]
        ids = new_uuid_bytes(rng, m)
        checked = self.doc_check[app] >= 0
        verified_at = self.doc_check[app] + j * 3 * MINUTE
        verified_at = np.where(checked & (verified_at >= self.H), self.doc_check[app], verified_at)
        result = rng.choice(3, size=m, p=[0.9, 0.07, 0.03])  # verified, needs_resubmission, rejected
        vstatus = np.where(~checked, "pending", np.array(["verified", "pending", "rejected"], dtype=object)[result]).astype(object)
        self.world.put("citizen", "documents", frame(
            document_id=ids, application_id=a["ids"][app], citizen_id=self.cit_ids[a["cit"][app]],
            document_type=types, file_name=pl.Series(types.tolist()) + "_" + pl.Series((j + 1).tolist()).cast(pl.String) + "." + pl.Series(ext.tolist()),
            mime_type=mime, file_size_bytes=pl.Series(np.clip(rng.lognormal(12.3, 0.7, m), 20_000, 5_000_000).astype(np.int32)),
            content_sha256=random_hex(rng, m, 64), uploaded_at=ts_col(uploaded), verification_status=vstatus,
            status=const("active", m), created_at=ts_col(uploaded),
            updated_at=ts_col(np.where(checked & (result != 1), verified_at, uploaded)),
            created_by=const("citizen", m),
            updated_by=np.where(checked & (result != 1), "dept-portal", "citizen").astype(object),
        ))
        # The department's side of the same check.
        v = np.flatnonzero(checked)
        officer = a["officer"][app[v]]
        res = np.array(["verified", "needs_resubmission", "rejected"], dtype=object)[result[v]]
        rem = np.array(["Document in order", "Scan unreadable, please upload again", "Document does not match applicant"], dtype=object)[result[v]]
        self.world.put("dept", "document_verifications", frame(
            verification_id=new_uuid_bytes(self.rng("document_verifications"), len(v)), document_id=ids[v],
            application_id=a["ids"][app[v]], department_id=self.dept_ids[a["office"][app[v]]],
            officer_id=self.user_ids[officer], verification_result=res, verified_at=ts_col(verified_at[v]),
            remarks=rem, status=const("active", len(v)), created_at=ts_col(verified_at[v]),
            updated_at=ts_col(verified_at[v]), created_by=self.user_emp[officer], updated_by=self.user_emp[officer],
        ))

    def notifications(self) -> None:
        rng = self.rng("notifications")
        a = self.app
        H = self.H
        n = len(a["ids"])
        idx = np.arange(n)
        email = self.cit_has_email[a["cit"]]
        dec_ok = a["decided_h"] & (a["decided"] + 5 * MINUTE < H)
        parts = [
            (idx[~a["draft"]], "sms", "APP_SUBMITTED", a["sub"] + MINUTE, ~a["draft"]),
            (idx[dec_ok], "sms", "APP_DECIDED", a["decided"] + 5 * MINUTE, dec_ok),
            (idx[dec_ok & email], "email", "APP_DECIDED", a["decided"] + 6 * MINUTE, dec_ok & email),
            (idx[a["withdrawn"]], "in_app", "APP_WITHDRAWN", a["withdraw_at"] + MINUTE, a["withdrawn"]),
        ]
        rem = a["draft"] & (a["created"] + 3 * DAY < H)
        parts.append((idx[rem], "push", "DRAFT_REMINDER", a["created"] + 3 * DAY, rem))
        app = np.concatenate([p[0] for p in parts])
        channel = np.concatenate([np.full(len(p[0]), p[1], dtype=object) for p in parts])
        template = np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in parts])
        sent = np.concatenate([p[3][p[4]] for p in parts])
        m = len(app)
        deliv = rng.choice(np.array(["delivered", "sent", "failed"], dtype=object), size=m, p=[0.9, 0.07, 0.03])
        read = ((channel == "in_app") | (channel == "email") | (channel == "push")) & (deliv == "delivered") & (rng.random(m) < 0.6)
        read_at = sent + rng.integers(5, 2 * 24 * 60, m) * MINUTE
        read = read & (read_at < H)
        subject = np.where(template == "APP_SUBMITTED", "Application received",
                  np.where(template == "APP_DECIDED", "Decision on your application",
                  np.where(template == "APP_WITHDRAWN", "Application withdrawn", "Complete your application"))).astype(object)
        self.world.put("citizen", "notifications", frame(
            notification_id=new_uuid_bytes(rng, m), citizen_id=self.cit_ids[a["cit"][app]], application_id=a["ids"][app],
            channel=channel, template_code=template, subject=subject,
            body=subject,
            sent_at=ts_col(sent), read_at=ts_col(read_at, ~read), delivery_status=deliv,
            status=const("active", m), created_at=ts_col(sent), updated_at=ts_col(np.where(read, read_at, sent)),
            created_by=const("notifier", m), updated_by=const("notifier", m),
        ))

    def payments(self) -> None:
        rng = self.rng("payments")
        a = self.app
        day = ist_day_number(np.where(a["decided_h"], a["decided"], self.S)) + rng.integers(1, 10, len(a["ids"]))
        paid = self.office_time(rng, day)
        idx = np.flatnonzero((a["status"] == APPROVED) & ~np.isnan(a["appr"]) & (paid < self.H))
        m = len(idx)
        ids = new_uuid_bytes(rng, m)
        ok = rng.random(m) < 0.97
        mode = rng.choice(np.array(["dbt", "neft", "upi", "cheque"], dtype=object), size=m, p=[0.8, 0.1, 0.08, 0.02])
        self.world.put("citizen", "payments", frame(
            payment_id=ids, application_id=a["ids"][idx], citizen_id=self.cit_ids[a["cit"][idx]],
            amount=a["appr"][idx], payment_mode=mode,
            transaction_ref=pl.Series(["TXN" + u[:8].upper() + u[9:13].upper() + u[14:18].upper() for u in uuid_text(ids).astype(str)]),
            paid_at=ts_col(paid[idx]), payment_status=np.where(ok, "success", "failed").astype(object),
            status=const("active", m), created_at=ts_col(paid[idx]), updated_at=ts_col(paid[idx]),
            created_by=const("payment-gateway", m), updated_by=const("payment-gateway", m),
        ))

    def feedback(self) -> None:
        rng = self.rng("feedback")
        a = self.app
        n = len(a["ids"])
        at = a["decided"] + (rng.uniform(0.5, 6.0, n) * DAY).astype(np.int64)
        idx = np.flatnonzero(a["decided_h"] & (at < self.H) & (rng.random(n) < 0.22))
        m = len(idx)
        good = a["status"][idx] == APPROVED
        rating = np.where(good, rng.choice([3, 4, 5], m, p=[0.15, 0.4, 0.45]), rng.choice([1, 2, 3, 4], m, p=[0.4, 0.3, 0.2, 0.1]))
        comments = np.array(["", "Quick and easy", "Took too long", "Officer was helpful", "Website was slow",
                             "Clear instructions", "Too many documents asked", "Satisfied"], dtype=object)
        c = comments[rng.integers(0, len(comments), m)]
        self.world.put("citizen", "feedback", frame(
            feedback_id=new_uuid_bytes(rng, m), citizen_id=self.cit_ids[a["cit"][idx]], application_id=a["ids"][idx],
            rating=pl.Series(rating, dtype=pl.Int16), comments=nullify(pl.Series(c.tolist()), c == ""),
            submitted_at=ts_col(at[idx]), status=const("active", m), created_at=ts_col(at[idx]),
            updated_at=ts_col(at[idx]), created_by=const("citizen", m), updated_by=const("citizen", m),
        ))

    def audit_log(self) -> None:
        rng = self.rng("audit_log")
        a = self.app
        n_c, n_a = len(self.cit_ids), len(a["ids"])
        movers, move_at, old_d, new_d = self.cit_moves
        D = ref.DISTRICTS
        dec = np.flatnonzero(a["decided_h"])
        ch = np.flatnonzero(self.sch_change_at < np.iinfo(np.int64).max)
        renamed, old_name, rename_at = self.dept_rename
        entity_table = np.concatenate([np.full(n_c, "citizens", dtype=object), np.full(n_a, "service_applications", dtype=object),
                                       np.full(len(movers), "citizens", dtype=object),
                                       np.full(len(dec), "service_applications", dtype=object),
                                       np.full(len(ch), "schemes", dtype=object)])
        entity = np.concatenate([self.cit_ids, a["ids"], self.cit_ids[movers], a["ids"][dec], self.sch_ids[ch]])
        action = np.concatenate([np.full(n_c + n_a, "insert", dtype=object), np.full(len(movers) + len(dec) + len(ch), "update", dtype=object)])
        at = np.concatenate([self.cit_created, a["created"], move_at, a["decided"][dec], self.sch_change_at[ch]])
        old = ([None] * (n_c + n_a)
               + [jdump({"district": D[i][1]}) for i in old_d]
               + [jdump({"status": "under_review"})] * len(dec)
               + [jdump({"benefit_amount": None if np.isnan(self.sch_old_benefit[i]) else self.sch_old_benefit[i],
                         "sla_days": int(self.sch_old_sla[i])}) for i in ch])
        new = ([jdump({"status": "active"})] * n_c
               + [jdump({"status": "draft"})] * n_a
               + [jdump({"district": D[i][1]}) for i in new_d]
               + np.where(a["status"][dec] == APPROVED, jdump({"status": "approved"}),
                          jdump({"status": "rejected"})).tolist()
               + [jdump({"benefit_amount": None if np.isnan(self.sch_benefit[i]) else self.sch_benefit[i],
                         "sla_days": int(self.sch_sla[i])}) for i in ch])
        actor = np.concatenate([np.full(n_c + n_a + len(movers), "citizen", dtype=object),
                                self.user_emp[a["officer"][dec]], np.full(len(ch), "scheme-admin", dtype=object)])
        m = len(entity)
        self.world.put("citizen", "audit_log", frame(
            audit_id=new_uuid_bytes(rng, m), entity_table=entity_table, entity_id=entity, action=action, actor=actor,
            changed_at=ts_col(at), old_values=pl.Series(old, dtype=pl.String), new_values=pl.Series(new, dtype=pl.String),
            status=const("active", m), created_at=ts_col(at), updated_at=ts_col(at), created_by=actor, updated_by=actor,
        ))
        # The department side: the rename and user creation.
        du = self.world.frames["dept"]["dept_users"]
        k = du.height
        ids = np.concatenate([self.user_ids, self.dept_ids[[renamed]]])
        t = np.concatenate([self.user_created, [rename_at]])
        tables = ["dept_users"] * k + ["departments"]
        acts = ["insert"] * k + ["update"]
        oldv = [None] * k + [jdump({"department_name": old_name})]
        newv = [jdump({"employee_code": e}) for e in self.user_emp] + [jdump({"department_name": ref.RENAMED_DEPARTMENT[1]})]
        actor_user = np.concatenate([np.full(k, self.user_ids[0]), [self.user_ids[0]]])
        self.world.put("dept", "dept_audit_log", frame(
            dept_audit_id=new_uuid_bytes(self.rng("dept_audit_log"), k + 1), actor_user_id=actor_user,
            entity_table=np.array(tables, dtype=object), entity_id=ids, action=np.array(acts, dtype=object),
            changed_at=ts_col(t), old_values=pl.Series(oldv, dtype=pl.String), new_values=pl.Series(newv, dtype=pl.String),
            status=const("active", k + 1), created_at=ts_col(t), updated_at=ts_col(t),
            created_by=const("dept-admin", k + 1), updated_by=const("dept-admin", k + 1),
        ))

    def dept_notifications(self) -> None:
        rng = self.rng("dept_notifications")
        a = self.app
        idx = np.flatnonzero(~a["draft"])
        warn_at = a["sub"] + (a["sla"] - 2) * DAY
        late = (~a["draft"]) & (np.where(a["decided_h"] | a["withdrawn"], np.minimum(a["decided"], a["withdraw_at"]), self.H) > warn_at) & (warn_at < self.H) & (a["sla"] > 3)
        w = np.flatnonzero(late)
        app = np.concatenate([idx, w])
        kind = np.concatenate([np.full(len(idx), "assignment", dtype=object), np.full(len(w), "sla_warning", dtype=object)])
        sent = np.concatenate([self.assigned_at[idx], warn_at[w]])
        m = len(app)
        read_at = sent + rng.integers(10, 600, m) * MINUTE
        read = (rng.random(m) < 0.8) & (read_at < self.H)
        msg = np.where(kind == "assignment", "New application assigned to you", "Application nearing its SLA").astype(object)
        self.world.put("dept", "dept_notifications", frame(
            dept_notification_id=new_uuid_bytes(rng, m), dept_user_id=self.user_ids[a["officer"][app]],
            department_id=self.dept_ids[a["office"][app]], application_id=a["ids"][app], notification_type=kind,
            message=msg, sent_at=ts_col(sent), read_at=ts_col(read_at, ~read), status=const("active", m),
            created_at=ts_col(sent), updated_at=ts_col(np.where(read, read_at, sent)),
            created_by=const("workflow-engine", m), updated_by=const("workflow-engine", m),
        ))

    def dashboard_metrics(self) -> None:
        rng = self.rng("dashboard_metrics")
        a = self.app
        sub_ok = ~a["draft"]
        recv = pl.DataFrame({"office": a["office"][sub_ok], "day": ist_day_number(a["sub"][sub_ok]), "metric": "applications_received"})
        dec = a["decided_h"]
        disp = pl.DataFrame({"office": a["office"][dec], "day": ist_day_number(a["decided"][dec]),
                             "metric": np.where(a["status"][dec] == APPROVED, "applications_approved", "applications_rejected")})
        allm = pl.concat([recv, disp]).group_by(["office", "day", "metric"]).len().sort(["office", "day", "metric"])
        allm = allm.filter(pl.col("day") < self.d0 + self.days).filter(pl.col("day") >= self.d0)
        m = allm.height
        office = allm["office"].to_numpy()
        day = allm["day"].to_numpy()
        at = (day + 1) * DAY - 5 * HOUR - 30 * MINUTE + 30 * MINUTE  # 00:30 IST the next day
        self.world.put("dept", "dashboard_metrics", frame(
            dashboard_metric_id=new_uuid_bytes(rng, m), department_id=self.dept_ids[office],
            metric_date=pl.Series(day).cast(pl.Date), metric_name=allm["metric"],
            metric_value=allm["len"].cast(pl.Float64), status=const("active", m),
            created_at=ts_col(at), updated_at=ts_col(at),
            created_by=const("dashboard-job", m), updated_by=const("dashboard-job", m),
        ))

    # ------------------------------------------------------------------ aiml
    def models(self) -> None:
        rng = self.rng("ml_models")
        codes = [c for c in self.use_case_codes]
        S = self.S
        rows = []
        self.switch_at = self.office_time(rng, np.array([self.d0 + int(self.days * 0.55)]))[0]
        algos = ["xgboost", "lightgbm", "logistic_regression", "random_forest", "prophet", "isolation_forest",
                 "bert_finetuned", "kmeans"]
        for i, code in enumerate(codes):
            name = code.lower().replace("_", "-")
            if code == ELIGIBILITY:
                trained = [S - 200 * DAY + 11 * HOUR, self.switch_at - 3 * DAY]
                statuses = ["archived", "production"]
                updated = [self.switch_at, self.switch_at]
            else:
                nv = int(rng.integers(1, 4))
                trained = sorted(int(S - int(rng.integers(20, 400)) * DAY + 11 * HOUR) for _ in range(nv))
                statuses = ["archived"] * (nv - 1) + ["production"]
                if nv > 1 and rng.random() < 0.2:
                    statuses[-1] = "staging"
                    statuses[-2] = "production"
                updated = [t + HOUR for t in trained]
                updated = [max(u, trained[min(j + 1, nv - 1)]) for j, u in enumerate(updated)]
            for j, (t, st, up) in enumerate(zip(trained, statuses, updated)):
                rows.append((code, name, f"{j + 1}.0", algos[(i + j) % len(algos)], t, st, up))
        n = len(rows)
        ids = new_uuid_bytes(rng, n)
        self.model_rows = rows
        self.model_ids = ids
        self.model_index = {(r[0], r[2]): k for k, r in enumerate(rows)}
        trained = np.array([r[4] for r in rows])
        metrics = [jdump({"auc": round(float(rng.uniform(0.74, 0.93)), 4), "f1": round(float(rng.uniform(0.6, 0.85)), 4)}) for _ in rows]
        self.world.put("aiml", "ml_models", frame(
            model_id=ids, use_case_code=np.array([r[0] for r in rows], dtype=object),
            model_name=np.array([r[1] for r in rows], dtype=object), model_version=np.array([r[2] for r in rows], dtype=object),
            algorithm=np.array([r[3] for r in rows], dtype=object), trained_at=ts_col(trained),
            metrics=pl.Series(metrics), artifact_uri=pl.Series([f"s3://smart-models/{r[1]}/{r[2]}/model.pkl" for r in rows]),
            status=np.array([r[5] for r in rows], dtype=object), created_at=ts_col(trained + HOUR),
            updated_at=ts_col(np.maximum(np.array([r[6] for r in rows]), trained + HOUR)),
            created_by=const("mlops", n), updated_by=const("mlops", n),
        ))
        # Experiments and runs.
        ne = len(codes)
        exp_ids = new_uuid_bytes(self.rng("mlflow_experiments"), ne)
        exp_created = np.full(ne, S - 420 * DAY)
        self.world.put("aiml", "mlflow_experiments", frame(
            experiment_id=exp_ids, mlflow_experiment_key=pl.Series([str(100 + i) for i in range(ne)]),
            use_case_code=np.array(codes, dtype=object), experiment_name=np.array([c.lower() for c in codes], dtype=object),
            artifact_location=pl.Series([f"s3://smart-mlflow/{100 + i}" for i in range(ne)]),
            status=const("active", ne), created_at=ts_col(exp_created), updated_at=ts_col(exp_created),
            created_by=const("mlops", ne), updated_by=const("mlops", ne),
        ))
        rr = self.rng("mlflow_runs")
        model_of_run = np.repeat(np.arange(n), 3)
        rn = len(model_of_run)
        k = np.tile(np.arange(3), n)
        started = trained[model_of_run] - (3 - k) * 6 * HOUR
        ended = started + rr.integers(10, 300, rn) * MINUTE
        run_ids = new_uuid_bytes(rr, rn)
        exp_of = np.array([codes.index(r[0]) for r in rows])[model_of_run]
        linked = k == 2
        self.world.put("aiml", "mlflow_runs", frame(
            run_id=run_ids, experiment_id=exp_ids[exp_of], model_id=nullify(uuid_col(ids[model_of_run]), ~linked),
            mlflow_run_key=pl.Series(random_hex(rr, rn, 32)).cast(pl.String),
            run_name=pl.Series([f"{rows[m][1]}-trial-{kk + 1}" for m, kk in zip(model_of_run, k)]),
            started_at=ts_col(started), ended_at=ts_col(ended),
            run_status=np.where(linked | (rr.random(rn) < 0.85), "finished", "failed").astype(object),
            params=pl.Series([jdump({"max_depth": int(d), "learning_rate": float(l)}) for d, l in
                              zip(rr.integers(3, 10, rn), rr.choice([0.01, 0.05, 0.1], rn))]),
            metrics=pl.Series([jdump({"val_auc": round(float(v), 4)}) for v in rr.uniform(0.7, 0.93, rn)]),
            status=const("active", rn), created_at=ts_col(started), updated_at=ts_col(ended),
            created_by=const("mlflow-sync", rn), updated_by=const("mlflow-sync", rn),
        ))

    def model_for(self, code: str, at: np.ndarray) -> np.ndarray:
        """The production model of a use case at each instant (index into ml_models)."""
        if code == ELIGIBILITY:
            return np.where(at < self.switch_at, self.model_index[(code, "1.0")], self.model_index[(code, "2.0")])
        prod = [k for k, r in enumerate(self.model_rows) if r[0] == code and r[5] == "production"]
        return np.full(len(at), prod[0])

    def predictions(self) -> None:
        rng = self.rng("predictions")
        a = self.app
        H = self.H
        el = np.flatnonzero(~a["draft"] & (rng.random(len(a["ids"])) < 0.93))
        t_el = a["sub"][el] + rng.integers(1, 20, len(el)) * MINUTE
        el, t_el = el[t_el < H], t_el[t_el < H]
        score = np.clip(np.round(sigmoid(1.5 * a["z"][el] + rng.normal(0.45, 0.7, len(el))), 4), 0.0001, 0.9999)
        sla_i = np.flatnonzero(a["reviewed"] & (rng.random(len(a["ids"])) < 0.3))
        t_sla = a["review"][sla_i] + 5 * MINUTE
        sla_i, t_sla = sla_i[t_sla < H], t_sla[t_sla < H]
        breach = ((a["decided"][sla_i] - a["sub"][sla_i]) > a["sla"][sla_i] * DAY) ^ (rng.random(len(sla_i)) < 0.2)
        # Batch jobs: the nightly dropout scoring of drafts.
        jr = self.rng("batch_prediction_jobs")
        job_days = self.period_days()
        jobs_uc = [DROPOUT_USE_CASE, "APPLICATION_VOLUME_FORECAST", "BENEFIT_FRAUD_DETECTION", "SCHEME_RECOMMENDATION"]
        job_uc = np.repeat(np.array(jobs_uc, dtype=object), len(job_days))
        job_day = np.tile(job_days, len(jobs_uc))
        nj = len(job_uc)
        sched = job_day * DAY - 5 * HOUR - 30 * MINUTE + 2 * HOUR + np.repeat(np.arange(len(jobs_uc)), len(job_days)) * 15 * MINUTE
        started = sched + jr.integers(0, 120, nj) * US
        finished = started + jr.integers(2, 40, nj) * MINUTE
        failed = jr.random(nj) < 0.03
        job_model = np.concatenate([self.model_for(c, sched[job_uc == c]) for c in jobs_uc])
        job_ids = new_uuid_bytes(jr, nj)
        dr = np.flatnonzero(a["draft"])
        dday = ist_day_number(a["created"][dr]) + 1
        ok = dday < self.d0 + self.days
        dr, dday = dr[ok], dday[ok]
        dropout_job = (dday - self.d0)  # index into the dropout block of jobs
        ok = ~failed[dropout_job]
        dr, dropout_job = dr[ok], dropout_job[ok]
        t_dr = finished[dropout_job] - MINUTE
        rows_scored = np.bincount(dropout_job, minlength=nj) + np.where(job_uc == DROPOUT_USE_CASE, 0, jr.integers(100, 5000, nj))
        rows_scored = np.where(failed, 0, rows_scored)
        self.world.put("aiml", "batch_prediction_jobs", frame(
            batch_prediction_job_id=job_ids, model_id=self.model_ids[job_model], use_case_code=job_uc,
            scheduled_for=ts_col(sched), started_at=ts_col(started), finished_at=ts_col(finished),
            job_status=np.where(failed, "failed", "succeeded").astype(object), rows_scored=pl.Series(rows_scored.astype(np.int32)),
            error_message=nullify(pl.Series(["worker lost connection to feature store"] * nj), ~failed),
            status=const("active", nj), created_at=ts_col(sched - HOUR), updated_at=ts_col(finished),
            created_by=const("scheduler", nj), updated_by=const("scheduler", nj),
        ))
        app = np.concatenate([el, sla_i, dr])
        uc = np.concatenate([np.full(len(el), ELIGIBILITY, dtype=object), np.full(len(sla_i), SLA_USE_CASE, dtype=object),
                             np.full(len(dr), DROPOUT_USE_CASE, dtype=object)])
        at = np.concatenate([t_el, t_sla, t_dr])
        model = np.concatenate([self.model_for(ELIGIBILITY, t_el), self.model_for(SLA_USE_CASE, t_sla),
                                self.model_for(DROPOUT_USE_CASE, t_dr)])
        escore = np.concatenate([score, np.full(len(sla_i) + len(dr), np.nan)])
        conf = np.concatenate([np.clip(np.round(0.55 + 0.8 * np.abs(score - 0.5) + rng.normal(0, 0.04, len(el)), 4), 0, 1),
                               np.round(rng.uniform(0.5, 0.95, len(sla_i) + len(dr)), 4)])
        label = np.concatenate([np.where(score >= 0.5, "eligible", "not_eligible"), np.where(breach, "breach", "on_time"),
                                np.where(rng.random(len(dr)) < 0.6, "likely_abandon", "likely_submit")]).astype(object)
        job = np.concatenate([np.full(len(el) + len(sla_i), -1), dropout_job])
        m = len(app)
        self.pred_frame = dict(
            prediction_id=new_uuid_bytes(rng, m), model_id=self.model_ids[model], use_case_code=uc,
            batch_prediction_job_id=nullify(uuid_col(job_ids[np.maximum(job, 0)]), job < 0),
            application_id=a["ids"][app], citizen_id=self.cit_ids[a["cit"][app]], scheme_id=self.sch_ids[a["sch"][app]],
            eligibility_score=escore, confidence_score=conf, predicted_label=label,
            predicted_at=at, status=np.full(m, "active", dtype=object),
            created_by=np.where(job < 0, "model-serving", "batch-scoring").astype(object),
        )

    def ml_operations(self) -> None:
        rng = self.rng("pipeline_runs")
        days = self.period_days()
        pipes = [("feature_refresh", "feature", None, 1), ("eligibility_scoring_monitor", "evaluation", ELIGIBILITY, 3),
                 ("nightly_batch_scoring", "scoring", DROPOUT_USE_CASE, 2)]
        rows = []
        for d in days:
            for name, typ, uc, h in pipes:
                rows.append((name, typ, uc, d * DAY - 5 * HOUR - 30 * MINUTE + h * HOUR))
            if (d + 3) % 7 == 6:  # Sunday retraining
                rows.append(("weekly_retraining", "training", ELIGIBILITY, d * DAY - 5 * HOUR - 30 * MINUTE + 4 * HOUR))
        n = len(rows)
        st = np.array([r[3] for r in rows]) + rng.integers(0, 300, n) * US
        fin = st + rng.integers(3, 90, n) * MINUTE
        failed = rng.random(n) < 0.04
        ucs = [r[2] for r in rows]
        self.world.put("aiml", "pipeline_runs", frame(
            pipeline_run_id=new_uuid_bytes(rng, n), pipeline_name=np.array([r[0] for r in rows], dtype=object),
            run_type=np.array([r[1] for r in rows], dtype=object), use_case_code=pl.Series(ucs, dtype=pl.String),
            started_at=ts_col(st), finished_at=ts_col(fin),
            run_status=np.where(failed, "failed", "succeeded").astype(object),
            rows_processed=pl.Series(np.where(failed, 0, rng.integers(1000, 200000, n)).astype(np.int64)),
            error_message=nullify(pl.Series(["out of memory in feature join"] * n), ~failed),
            status=const("active", n), created_at=ts_col(st), updated_at=ts_col(fin),
            created_by=const("scheduler", n), updated_by=const("scheduler", n),
        ))
        mr = self.rng("model_monitoring")
        prod = [k for k, r in enumerate(self.model_rows) if r[5] == "production"]
        metrics = [("psi_drift", 0.2), ("prediction_volume", None)]
        keys = [(d, k, mname, thr) for d in days for k in prod for mname, thr in metrics]
        m = len(keys)
        day = np.array([x[0] for x in keys])
        val = np.where(np.array([x[2] for x in keys]) == "psi_drift", np.round(mr.gamma(2.0, 0.04, m), 4),
                       mr.integers(50, 3000, m).astype(float))
        thr = np.array([np.nan if x[3] is None else x[3] for x in keys])
        at = (day + 1) * DAY - 5 * HOUR - 30 * MINUTE + 3 * HOUR
        self.world.put("aiml", "model_monitoring", frame(
            model_monitoring_id=new_uuid_bytes(mr, m), model_id=self.model_ids[np.array([x[1] for x in keys])],
            metric_date=pl.Series(day).cast(pl.Date), metric_name=np.array([x[2] for x in keys], dtype=object),
            metric_value=val, threshold=thr, is_breached=np.nan_to_num(val > thr, nan=0).astype(bool) & ~np.isnan(thr),
            status=const("active", m), created_at=ts_col(at), updated_at=ts_col(at),
            created_by=const("monitor-job", m), updated_by=const("monitor-job", m),
        ))
        cr = self.rng("analytics_cache")
        keys = [f"dashboard:{c}:approval_rate" for c in self.sch_codes[:30]] + \
               [f"forecast:{uc.lower()}:next_7_days" for uc in ["APPLICATION_VOLUME_FORECAST", "DISTRICT_DEMAND_FORECAST",
                                                                 "BUDGET_UTILISATION_FORECAST", "CAPACITY_FORECAST"]]
        k = len(keys)
        comp = self.H - cr.integers(1, 20, k) * HOUR
        self.world.put("aiml", "analytics_cache", frame(
            analytics_cache_id=new_uuid_bytes(cr, k), cache_key=pl.Series(keys),
            use_case_code=pl.Series([None] * 30 + ["APPLICATION_VOLUME_FORECAST", "DISTRICT_DEMAND_FORECAST",
                                                   "BUDGET_UTILISATION_FORECAST", "CAPACITY_FORECAST"], dtype=pl.String),
            payload=pl.Series([jdump({"value": round(float(v), 4)}) for v in cr.uniform(0.3, 0.9, k)]),
            computed_at=ts_col(comp), expires_at=ts_col(comp + 24 * HOUR),
            status=const("active", k), created_at=ts_col(comp), updated_at=ts_col(comp),
            created_by=const("analytics-job", k), updated_by=const("analytics-job", k),
        ))

    # ------------------------------------------------------------------ monitor
    def monitoring(self) -> None:
        rng = self.rng("system_components")
        C = ref.COMPONENTS
        nc = len(C)
        cids = new_uuid_bytes(rng, nc)
        ccreated = np.full(nc, self.S - 500 * DAY)
        self.world.put("monitor", "system_components", frame(
            component_id=cids, component_code=np.array([c[0] for c in C], dtype=object),
            component_name=np.array([c[1] for c in C], dtype=object), component_type=np.array([c[2] for c in C], dtype=object),
            data_centre=np.array([c[3] for c in C], dtype=object),
            host_name=pl.Series([f"{c[0].lower()}-01.{c[3]}.smart.internal" for c in C]),
            environment=const("production", nc), description=np.array([c[1] for c in C], dtype=object),
            status=const("active", nc), created_at=ts_col(ccreated), updated_at=ts_col(ccreated),
            created_by=const("platform-admin", nc), updated_by=const("platform-admin", nc),
        ))
        days = self.days
        # Health checks at a fixed interval per component.
        hr = self.rng("health_checks")
        per_day = max(1, round(48 * self.scale))
        step = DAY // per_day
        slots = np.arange(days * per_day)
        comp = np.repeat(np.arange(nc), len(slots))
        t = self.S + np.tile(slots, nc) * step + hr.integers(0, 30, len(comp)) * US
        m = len(comp)
        state = hr.choice(3, size=m, p=[0.975, 0.02, 0.005])
        is_db = np.array([c[2] == "database" for c in C])[comp]
        resp = np.where(state == 2, 0, np.clip(hr.lognormal(np.where(is_db, 2.3, 4.6), 0.5), 1, 30000)).astype(np.int32)
        resp = np.where(state == 1, resp * 8, resp)
        hstatus = np.array(["healthy", "degraded", "down"], dtype=object)[state]
        details = np.where(state == 2, jdump({"error": "connection refused"}),
                           np.where(state == 1, jdump({"warning": "slow response"}), None))
        self.world.put("monitor", "health_checks", frame(
            health_check_id=new_uuid_bytes(hr, m), component_id=cids[comp], status=hstatus, checked_at=ts_col(t),
            response_ms=pl.Series(resp), details=pl.Series(details.tolist(), dtype=pl.String),
            created_at=ts_col(t), updated_at=ts_col(t), created_by=const("prober", m), updated_by=const("prober", m),
        ))
        # Alert rules and incidents from the non-healthy checks.
        ar = self.rng("alert_rules")
        rule_comp = np.arange(nc)
        nr = nc * 2
        rcomp = np.concatenate([rule_comp, rule_comp])
        rsev = np.concatenate([np.full(nc, "critical", dtype=object), np.full(nc, "warning", dtype=object)])
        rule_ids = new_uuid_bytes(ar, nr)
        self.world.put("monitor", "alert_rules", frame(
            alert_rule_id=rule_ids, rule_code=pl.Series([f"{C[c][0]}-{'DOWN' if i < nc else 'SLOW'}" for i, c in enumerate(rcomp)]),
            rule_name=pl.Series([f"{C[c][1]} {'is down' if i < nc else 'responds slowly'}" for i, c in enumerate(rcomp)]),
            component_id=cids[rcomp], metric_name=np.where(np.arange(nr) < nc, "health_status", "response_ms").astype(object),
            severity=rsev, condition=np.where(np.arange(nr) < nc, "health_status = 'down'", "response_ms > 2000 for 5 min").astype(object),
            threshold=np.where(np.arange(nr) < nc, np.nan, 2000.0), status=const("active", nr),
            created_at=ts_col(np.full(nr, self.S - 400 * DAY)), updated_at=ts_col(np.full(nr, self.S - 400 * DAY)),
            created_by=const("platform-admin", nr), updated_by=const("platform-admin", nr),
        ))
        ir = self.rng("alert_incidents")
        bad = np.flatnonzero((state == 2) | ((state == 1) & (ir.random(m) < 0.3)))
        ni = len(bad)
        opened = t[bad]
        resolved = opened + ir.integers(5, 180, ni) * MINUTE
        done = resolved < self.H
        istatus = np.where(done, "resolved", "acknowledged").astype(object)
        crit = state[bad] == 2
        self.world.put("monitor", "alert_incidents", frame(
            incident_id=new_uuid_bytes(ir, ni), alert_rule_id=rule_ids[np.where(crit, comp[bad], comp[bad] + nc)],
            component_id=cids[comp[bad]], severity=np.where(crit, "critical", "warning").astype(object),
            title=pl.Series([f"{C[c][0]} {'down' if k else 'degraded'}" for c, k in zip(comp[bad], crit)]),
            incident_status=istatus, opened_at=ts_col(opened), acknowledged_at=ts_col(opened + 4 * MINUTE),
            resolved_at=ts_col(resolved, ~done), details=pl.Series([jdump({"response_ms": int(r)}) for r in resp[bad]]),
            status=const("active", ni), created_at=ts_col(opened), updated_at=ts_col(np.where(done, resolved, opened + 4 * MINUTE)),
            created_by=const("alertmanager", ni), updated_by=const("alertmanager", ni),
        ))
        # Resource metrics.
        sr = self.rng("system_metrics")
        per_day = max(1, round(24 * self.scale))
        slots = np.arange(days * per_day)
        names = np.array(["cpu_percent", "memory_percent"], dtype=object)
        comp = np.repeat(np.arange(nc), len(slots) * 2)
        nm = np.tile(np.repeat(np.arange(2), len(slots)), nc)
        t = self.S + np.tile(np.tile(slots, 2), nc) * (DAY // per_day)
        m = len(comp)
        hour = ((t + 5 * HOUR + 30 * MINUTE) % DAY) / HOUR
        load = 1 + 0.8 * np.exp(-((hour - 13) ** 2) / 18)
        val = np.where(nm == 0, np.clip(sr.normal(22, 6, m) * load, 1, 100), np.clip(sr.normal(55, 8, m), 5, 99))
        self.world.put("monitor", "system_metrics", frame(
            system_metric_id=new_uuid_bytes(sr, m), component_id=cids[comp], metric_name=names[nm], metric_value=np.round(val, 2),
            unit=const("percent", m), recorded_at=ts_col(t), status=const("active", m),
            created_at=ts_col(t), updated_at=ts_col(t), created_by=const("collector", m), updated_by=const("collector", m),
        ))
        # Endpoint performance per window.
        pr = self.rng("performance_metrics")
        eps = [(list(C).index(next(c for c in C if c[0] == code)), e) for code, es in ref.ENDPOINTS_BY_COMPONENT.items() for e in es]
        ep = np.repeat(np.arange(len(eps)), len(slots))
        ws = self.S + np.tile(slots, len(eps)) * (DAY // per_day)
        m = len(ep)
        hour = ((ws + 5 * HOUR + 30 * MINUTE) % DAY) / HOUR
        req = (pr.poisson(400, m) * (0.2 + np.exp(-((hour - 13) ** 2) / 20)) * 24 / per_day).astype(np.int32)
        err = np.minimum(pr.binomial(req, 0.004), req).astype(np.int32)
        p50 = np.clip(pr.lognormal(4.4, 0.3, m), 5, 5000).astype(np.int32)
        self.world.put("monitor", "performance_metrics", frame(
            performance_metric_id=new_uuid_bytes(pr, m), component_id=cids[np.array([e[0] for e in eps])[ep]],
            endpoint=np.array([e[1] for e in eps], dtype=object)[ep], window_start=ts_col(ws), window_end=ts_col(ws + DAY // per_day),
            request_count=pl.Series(req), error_count=pl.Series(err), p50_ms=pl.Series(p50),
            p95_ms=pl.Series((p50 * pr.uniform(2, 4, m)).astype(np.int32)), p99_ms=pl.Series((p50 * pr.uniform(4, 8, m)).astype(np.int32)),
            status=const("active", m), created_at=ts_col(ws + DAY // per_day), updated_at=ts_col(ws + DAY // per_day),
            created_by=const("collector", m), updated_by=const("collector", m),
        ))
        # Logs and their hourly counts.
        lr = self.rng("system_logs")
        nl = max(1, round(300 * self.scale)) * days
        comp = lr.integers(0, nc, nl)
        lvl = lr.choice(4, size=nl, p=[0.7, 0.2, 0.08, 0.02])
        levels = np.array(["info", "warning", "error", "critical"], dtype=object)
        t = self.S + (lr.random(nl) * (self.H - self.S)).astype(np.int64)
        msgs = [ref.LOG_MESSAGES[levels[v]][int(r * len(ref.LOG_MESSAGES[levels[v]]))] for v, r in zip(lvl, lr.random(nl))]
        self.world.put("monitor", "system_logs", frame(
            system_log_id=new_uuid_bytes(lr, nl), component_id=cids[comp], log_level=levels[lvl], message=pl.Series(msgs),
            logged_at=ts_col(t), trace_id=random_hex(lr, nl, 16), context=const(None, nl).cast(pl.String),
            status=const("active", nl), created_at=ts_col(t), updated_at=ts_col(t),
            created_by=const("log-shipper", nl), updated_by=const("log-shipper", nl),
        ))
        hour_start = (t // HOUR) * HOUR
        agg = pl.DataFrame({"comp": comp, "lvl": lvl, "w": hour_start}).group_by(["comp", "w", "lvl"]).len().sort(["comp", "w", "lvl"])
        ga = self.rng("log_aggregations")
        k = agg.height
        w = agg["w"].to_numpy()
        self.world.put("monitor", "log_aggregations", frame(
            log_aggregation_id=new_uuid_bytes(ga, k), component_id=cids[agg["comp"].to_numpy()], window_start=ts_col(w),
            window_end=ts_col(w + HOUR), log_level=levels[agg["lvl"].to_numpy()], log_count=agg["len"].cast(pl.Int32),
            status=const("active", k), created_at=ts_col(w + HOUR), updated_at=ts_col(w + HOUR),
            created_by=const("log-aggregator", k), updated_by=const("log-aggregator", k),
        ))
        # Administrators and their audit trail (logins on working days).
        au = self.rng("admin_users")
        na = 8
        first = np.array(ref.MALE_NAMES + ref.FEMALE_NAMES, dtype=object)[au.integers(0, 80, na)]
        last = np.array(ref.SURNAMES, dtype=object)[au.integers(0, len(ref.SURNAMES), na)]
        aids = new_uuid_bytes(au, na)
        acreated = np.full(na, self.S - 300 * DAY)
        logins = []
        for d in self.period_days():
            if not self.cal.is_off(np.array([d]))[0]:
                for i in range(na):
                    if au.random() < 0.6:
                        logins.append((i, d * DAY - 5 * HOUR - 30 * MINUTE + int(au.integers(9 * 60, 19 * 60)) * MINUTE))
        last_login = np.full(na, acreated[0])
        for i, tt in logins:
            last_login[i] = max(last_login[i], tt)
        uname = [f"{f.lower()}.{l.lower().replace(chr(39), '')}{i}" for i, (f, l) in enumerate(zip(first, last))]
        self.world.put("monitor", "admin_users", frame(
            admin_user_id=aids, username=pl.Series(uname), full_name=pl.Series([f"{f} {l}" for f, l in zip(first, last)]),
            email=pl.Series([f"{u}@admin.example.in" for u in uname]),
            role=np.array(ref.ADMIN_ROLES, dtype=object)[np.arange(na) % len(ref.ADMIN_ROLES)],
            last_login_at=ts_col(last_login), status=const("active", na), created_at=ts_col(acreated),
            updated_at=ts_col(np.maximum(last_login, acreated)),
            created_by=const("platform-admin", na), updated_by=const("platform-admin", na),
        ))
        ml = self.rng("monitor_audit_log")
        k = len(logins)
        li = np.array([x[0] for x in logins], dtype=np.int64)
        lt = np.array([x[1] for x in logins], dtype=np.int64)
        self.world.put("monitor", "monitor_audit_log", frame(
            monitor_audit_id=new_uuid_bytes(ml, k), admin_user_id=aids[li], entity_table=const("admin_users", k),
            entity_id=aids[li], action=const("login", k), changed_at=ts_col(lt),
            old_values=const(None, k).cast(pl.String), new_values=const(None, k).cast(pl.String),
            status=const("active", k), created_at=ts_col(lt), updated_at=ts_col(lt),
            created_by=pl.Series(uname).gather(li), updated_by=pl.Series(uname).gather(li),
        ))

    # ------------------------------------------------------------------ dirty data
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
                         step_number=np.ones(k, np.int32), remarks=np.full(k, "Application received", dtype=object),
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
                         predicted_label=np.where(score >= 0.5, "eligible", "not_eligible").astype(object),
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

    # ------------------------------------------------------------------ assemble
    def finish(self) -> None:
        W = self.world
        # Keep every table's columns in the migration's order of tables.
        for db in PORTALS:
            W.frames[db] = {t: W.frames[db][t] for t in TABLES[db]}

    def build(self, use_case_codes: list[str]) -> World:
        self.use_case_codes = use_case_codes
        self.departments()
        self.designations()
        self.dept_users()
        self.schemes()
        self.workflows()
        self.citizens()
        self.applications()
        self.dirty_records()
        self.history()
        self.actions()
        self.orphan_actions()
        self.assignments()
        self.documents()
        self.notifications()
        self.payments()
        self.feedback()
        self.audit_log()
        self.dept_notifications()
        self.dashboard_metrics()
        self.models()
        self.predictions()
        self.orphan_predictions()
        self.ml_operations()
        self.monitoring()
        self.finish()
        return self.world


# ============================================================================ public API

_EXISTING_ROWS = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT 1) AS t")


def _check_empty(urls: Mapping[str, str], replace: bool) -> list[str]:
    """Names of portal tables that already hold rows."""
    busy = []
    for db in PORTALS:
        with connect(urls[db]) as conn:
            for table in TABLES[db]:
                if conn.execute(_EXISTING_ROWS.format(sql.Identifier(table))).fetchone()[0]:
                    busy.append(f"{db}.{table}")
    return busy


def _use_case_codes(url: str) -> list[str]:
    with connect(url) as conn:
        codes = [r[0] for r in conn.execute("SELECT use_case_code FROM ml_use_cases ORDER BY use_case_code")]
    if ELIGIBILITY not in codes:
        raise SyntheticDataError("smart_aiml.ml_use_cases lacks ELIGIBILITY_SCORING: run the migrations first")
    return codes


def seed(urls: Mapping[str, str], *, seed: int = 20260401, scale: float = 1.0, start: date | None = None,
         days: int = 90, bad_rate: float = 0.002, manifest_path: Path | None = None,
         log: Callable[[str], None] = print, replace: bool = False) -> dict:
    """Fill the four (migrated, empty) portal databases with a reproducible synthetic world.

    ``start=None`` means the ``days`` days ending yesterday in Asia/Kolkata. Refuses to
    write into portals that already hold rows unless ``replace=True``, which truncates the
    portal tables first. Returns the manifest (and writes it as JSON to ``manifest_path``).
    """
    missing = [k for k in PORTALS if k not in urls]
    if missing:
        raise SyntheticDataError(f"missing portal URL(s): {', '.join(missing)}")
    if start is None:
        start = ist_today() - timedelta(days=days)
    busy = _check_empty(urls, replace)
    if busy and not replace:
        raise PortalsHoldData(
            f"the portals already hold data ({', '.join(busy[:4])}{'...' if len(busy) > 4 else ''}); "
            "seed refuses to mix worlds - pass replace=True to truncate the portal tables first")
    codes = _use_case_codes(urls["aiml"])
    t0 = time.perf_counter()
    log(f"generating: seed={seed} scale={scale} start={start} days={days} bad_rate={bad_rate}")
    # Each database loads in its own thread and transaction while the world is being made:
    # a table is copied and indexed as soon as it is final.
    loads = {db: DatabaseLoad(urls[db], TABLES[db], log=log, label=db).start() for db in PORTALS}
    try:
        builder = Builder(seed=seed, scale=scale, start=start, days=days, bad_rate=bad_rate)
        builder.world.sink = lambda db, table, df: loads[db].put(table, df)
        world = builder.build(codes)
        t_gen = time.perf_counter() - t0
        total = sum(df.height for tables in world.frames.values() for df in tables.values())
        log(f"generated {total:,} rows in {t_gen:.1f} s")
        for load in loads.values():
            load.ready()
    except BaseException:
        for load in loads.values():
            load.abort()
        raise
    for load in loads.values():
        load.commit()
    elapsed = time.perf_counter() - t0
    t_load = elapsed - t_gen
    log(f"loaded {total:,} rows; total {elapsed:.1f} s ({total / elapsed:,.0f} rows/s)")
    manifest = _manifest(world, seed=seed, scale=scale, start=start, days=days, bad_rate=bad_rate)
    manifest["timing"] = {"generate_s": round(t_gen, 2), "load_after_generate_s": round(t_load, 2),
                          "total_s": round(elapsed, 2), "rows": total, "rows_per_s": round(total / elapsed)}
    if manifest_path is not None:
        Path(manifest_path).parent.mkdir(parents=True, exist_ok=True)
        Path(manifest_path).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


_IDS_PRESENT = sql.SQL("SELECT count(*) FROM {} WHERE {} = ANY(%s::uuid[])")


def world_mismatch(urls: Mapping[str, str], manifest: dict | None, *, seed: int, scale: float,
                   days: int, bad_rate: float) -> str | None:
    """Why the portals do not hold the world ``seed`` would make with these settings, or None.

    The manifest must ask for the same world, and the portals must still hold it: at least
    its row count in every table (``simulate`` only adds) and every dirty row it planted —
    ids drawn from the seed, so another world's rows do not pass for this one.
    """
    if not manifest:
        return "no seed manifest describes them"
    asked = {"seed": seed, "scale": scale, "days": days, "bad_rate": bad_rate}
    differs = [f"{k} {manifest.get(k)} (asked {v})" for k, v in asked.items() if manifest.get(k) != v]
    if differs:
        return "they were seeded with " + ", ".join(differs)
    for name, rows in manifest.get("rows", {}).items():
        db, table = name.split(".")
        with connect(urls[db]) as conn:
            held = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
        if held < rows:
            return f"{name} holds {held:,} rows, the seeded world has {rows:,}"
    for kind, planted in manifest.get("dirty", {}).items():
        db, table = planted["table"].split(".")
        query = _IDS_PRESENT.format(sql.Identifier(table), sql.Identifier(PRIMARY_KEYS[table]))
        with connect(urls[db]) as conn:
            found = conn.execute(query, (planted["ids"],)).fetchone()[0]
        if found != len(planted["ids"]):
            return f"{planted['table']} lacks {len(planted['ids']) - found} of the seed's {kind} rows"
    return None


def _manifest(world: World, *, seed: int, scale: float, start: date, days: int, bad_rate: float) -> dict:
    rows = {f"{db}.{t}": df.height for db in PORTALS for t, df in world.frames[db].items()}
    dirty = {}
    for kind in DIRTY_KINDS:
        if kind not in world.dirty:
            continue
        db, table = DIRTY_TABLE[kind].split(".")
        pk = PRIMARY_KEYS[table]
        ids = uuid_strings(world.frames[db][table][pk].gather(world.dirty[kind]).sort())
        dirty[kind] = {"table": DIRTY_TABLE[kind], "ids": ids}
    return {"seed": seed, "scale": scale, "start": start.isoformat(), "days": days, "bad_rate": bad_rate,
            "rows": rows, "dirty": dirty}
