"""The department portal's tables: offices, officers, workflows and their work on applications.

The department side of the world comes in two passes: the organisation first (departments
and their district offices, designations, officers, workflows), which the citizen side
needs to route applications; then, once the applications exist, the officers' work on
them (assignments, processing actions, notifications, daily dashboard counts), block by
block of applications. The
verification of documents and the department audit log follow the citizen side's
documents and audit log.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from smart_warehouse_assets.synthetic import reference as ref
from smart_warehouse_assets.synthetic import rules
from smart_warehouse_assets.synthetic.core import (
    DAY, HOUR, MINUTE, const, frame, ist_day_number, ist_day_start, jdump, new_uuid_bytes, nullify, time_of_day,
    ts_col, uuid_col,
)
from smart_warehouse_assets.synthetic.rules import APPROVED


_ACTION_TYPES = np.array([t for t, _ in rules.ACTIONS], dtype=object)
_ACTION_REMARKS = np.array([r for _, r in rules.ACTIONS], dtype=object)
_ACT = {t: i for i, t in enumerate(_ACTION_TYPES)}


class DeptTables:
    """Builder mixin (see ``world.Period``) for the tables of the department portal."""

    # ------------------------------------------------------------------ the organisation
    def departments(self) -> None:
        """The state, its departments and their district offices (one department is renamed in the period)."""
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
        self.world.put_whole("dept", "departments", df)

    def designations(self) -> None:
        """The officers' ranks, and which of them can approve."""
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
        self.world.put_whole("dept", "designations", df)

    def dept_users(self) -> None:
        """The officers of every office: in a district office the first one approves."""
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
        created = ist_day_start(ist_day_number(created)) + 10 * HOUR + rng.integers(0, 6 * 60, n) * MINUTE
        roles = np.where(self.desig_can_approve[desig], "supervisor", "officer").astype(object)
        roles[rank == 1] = "admin"
        serial = np.arange(1, n + 1)
        emp = np.array([f"EMP{s:06d}" for s in serial], dtype=object)
        email = np.array([f"{rules.name_handle(f, l)}.{s}@dept.example.in" for f, l, s in zip(first, last, serial)],
                         dtype=object)
        phone = np.array([rules.mobile_number(v) for v in rng.integers(*rules.MOBILE_RANGE, n)], dtype=object)
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
        self.world.put_whole("dept", "dept_users", df)

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

    def workflows(self) -> None:
        """One workflow per scheme and its chain of approval steps."""
        rng = self.rng("workflows")
        n = len(self.sch_ids)
        ids = new_uuid_bytes(rng, n)
        steps = rng.integers(3, 6, n)
        created = self.sch_created + HOUR
        self.wf_ids = ids
        self.world.put_whole("dept", "workflows", frame(
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
        self.world.put_whole("dept", "approval_chains", frame(
            approval_chain_id=new_uuid_bytes(rng, m), workflow_id=ids[wf], step_number=pl.Series(step, dtype=pl.Int16),
            designation_id=self.desig_ids[desig],
            action_required=np.where(last, "approve or reject", actions[np.minimum(step - 1, 3)]).astype(object),
            sla_hours=pl.Series(rng.choice([24, 48, 72, 120], m), dtype=pl.Int32), is_final=last,
            status=const("active", m), created_at=ts_col(created[wf]), updated_at=ts_col(created[wf]),
            created_by=const("dept-admin", m), updated_by=const("dept-admin", m),
        ))

    # ------------------------------------------------------------------ the work on applications
    def actions(self) -> None:
        """Each application's processing actions, numbered in time order (the orphans come last)."""
        rng = self.block("processing_actions")
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
        dec_type = np.where(a["approve"][idx], _ACT["approved"], _ACT["rejected"])
        slots = [
            (np.full(k, _ACT["received"]), review, np.ones(k, bool)),
            (np.full(k, _ACT["document_check"]), t_doc, np.ones(k, bool)),
            (np.full(k, _ACT["returned"]), t_ret, has_ret),
            (np.full(k, _ACT["field_verification"]), t_field, has_field),
            (np.full(k, _ACT["forwarded"]), t_fwd, np.ones(k, bool)),
            (dec_type, decided, ~wd),
        ]
        apps, ty, at = [], [], []
        for typ, t, exists in slots:
            ok = exists & (t < H) & (t < wat)
            apps.append(idx[ok]); ty.append(typ[ok]); at.append(t[ok])
        closed = a["withdrawn"][idx]
        apps.append(idx[closed]); ty.append(np.full(closed.sum(), _ACT["closed"])); at.append(a["withdraw_at"][idx][closed])
        app, typ, at = np.concatenate(apps), np.concatenate(ty), np.concatenate(at)
        order = np.lexsort((at, app))
        app, typ, at = app[order], typ[order], at[order]
        first = np.r_[True, app[1:] != app[:-1]]
        starts = np.flatnonzero(first)
        step = np.arange(len(app)) - np.repeat(starts, np.diff(np.r_[starts, len(app)])) + 1
        # Remember each application's document-check time for the verifications.
        doc_check = np.full(len(a["ids"]), -1, dtype=np.int64)
        sel = typ == _ACT["document_check"]
        doc_check[app[sel]] = at[sel]
        self.doc_check = doc_check
        self.assignment_ids = new_uuid_bytes(self.block("application_assignments.ids"), len(a["ids"]))
        office, officer = a["office"][app], a["officer"][app]
        m = len(app)
        by = self.user_emp[officer]
        self.world.put("dept", "processing_actions", frame(
            action_id=new_uuid_bytes(rng, m), application_id=a["ids"][app], assignment_id=self.assignment_ids[app],
            department_id=self.dept_ids[office], officer_id=self.user_ids[officer],
            action_type=_ACTION_TYPES[typ], action_at=ts_col(at), step_number=step.astype(np.int32),
            remarks=_ACTION_REMARKS[typ],
            status=np.full(m, "active", dtype=object), created_by=by, updated_by=by,
            created_at=ts_col(at), updated_at=ts_col(at),
        ))

    def assignments(self) -> None:
        """Each submitted application's assignment to its officer."""
        rng = self.block("application_assignments")
        a = self.app
        idx = np.flatnonzero(~a["draft"])
        k = len(idx)
        assigned = a["sub"][idx] + rng.integers(*rules.ASSIGN_DELAY_MINUTES, k) * MINUTE
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

    def dept_notifications(self) -> None:
        """Officers' notices: a new assignment, and a warning two days before the SLA."""
        rng = self.block("dept_notifications")
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
        msg = np.where(kind == "assignment", rules.DEPT_NOTICES["assignment"],
                       rules.DEPT_NOTICES["sla_warning"]).astype(object)
        self.world.put("dept", "dept_notifications", frame(
            dept_notification_id=new_uuid_bytes(rng, m), dept_user_id=self.user_ids[a["officer"][app]],
            department_id=self.dept_ids[a["office"][app]], application_id=a["ids"][app], notification_type=kind,
            message=msg, sent_at=ts_col(sent), read_at=ts_col(read_at, ~read), status=const("active", m),
            created_at=ts_col(sent), updated_at=ts_col(np.where(read, read_at, sent)),
            created_by=const("workflow-engine", m), updated_by=const("workflow-engine", m),
        ))

    def plan_dashboard(self) -> None:
        # [office, period day, metric], the metrics in the order of their names
        self.dashboard_counts = np.zeros((len(self.dept_ids), self.days, 3), dtype=np.int32)

    def count_dashboard(self) -> None:
        """Add the block's applications to the daily counts per office (received, approved, rejected)."""
        a = self.app
        cnt = self.dashboard_counts
        sub_ok = ~a["draft"]
        for office, day, metric in (
                (a["office"][sub_ok], ist_day_number(a["sub"][sub_ok]), np.full(sub_ok.sum(), 1)),
                (a["office"][a["decided_h"]], ist_day_number(a["decided"][a["decided_h"]]),
                 np.where(a["status"][a["decided_h"]] == APPROVED, 0, 2))):
            inside = (day >= self.d0) & (day < self.d0 + self.days)
            np.add.at(cnt, (office[inside], day[inside] - self.d0, metric[inside]), 1)

    def dashboard_metrics(self) -> None:
        """Daily counts per office of applications received, approved and rejected."""
        rng = self.rng("dashboard_metrics")
        names = np.array(["applications_approved", "applications_received", "applications_rejected"], dtype=object)
        office, day, metric = np.nonzero(self.dashboard_counts)
        value = self.dashboard_counts[office, day, metric].astype(np.float64)
        day = day + self.d0
        m = len(office)
        at = ist_day_start(day + 1) + 30 * MINUTE  # 00:30 IST the next day
        self.world.put_whole("dept", "dashboard_metrics", frame(
            dashboard_metric_id=new_uuid_bytes(rng, m), department_id=self.dept_ids[office],
            metric_date=pl.Series(day).cast(pl.Date), metric_name=names[metric],
            metric_value=value, status=const("active", m),
            created_at=ts_col(at), updated_at=ts_col(at),
            created_by=const("dashboard-job", m), updated_by=const("dashboard-job", m),
        ))

    def document_verifications(self) -> None:
        """The department's side of the document check (see ``CitizenTables.documents``)."""
        a, d = self.app, self.docs
        v = np.flatnonzero(d["checked"])
        app = d["app"][v]
        officer = a["officer"][app]
        result = d["result"][v]
        res = np.array(["verified", "needs_resubmission", "rejected"], dtype=object)[result]
        rem = np.array(["Document in order", "Scan unreadable, please upload again",
                        "Document does not match applicant"], dtype=object)[result]
        at = d["verified_at"][v]
        self.world.put("dept", "document_verifications", frame(
            verification_id=new_uuid_bytes(self.block("document_verifications"), len(v)), document_id=d["ids"][v],
            application_id=a["ids"][app], department_id=self.dept_ids[a["office"][app]],
            officer_id=self.user_ids[officer], verification_result=res, verified_at=ts_col(at),
            remarks=rem, status=const("active", len(v)), created_at=ts_col(at),
            updated_at=ts_col(at), created_by=self.user_emp[officer], updated_by=self.user_emp[officer],
        ))

    def dept_audit_log(self) -> None:
        """The department audit trail: the officers' creation and the department renamed in the period."""
        renamed, old_name, rename_at = self.dept_rename
        k = len(self.user_ids)
        ids = np.concatenate([self.user_ids, self.dept_ids[[renamed]]])
        t = np.concatenate([self.user_created, [rename_at]])
        tables = ["dept_users"] * k + ["departments"]
        acts = ["insert"] * k + ["update"]
        oldv = [None] * k + [jdump({"department_name": old_name})]
        newv = [jdump({"employee_code": e}) for e in self.user_emp] + [jdump({"department_name": ref.RENAMED_DEPARTMENT[1]})]
        actor_user = np.concatenate([np.full(k, self.user_ids[0]), [self.user_ids[0]]])
        self.world.put_whole("dept", "dept_audit_log", frame(
            dept_audit_id=new_uuid_bytes(self.rng("dept_audit_log"), k + 1), actor_user_id=actor_user,
            entity_table=np.array(tables, dtype=object), entity_id=ids, action=np.array(acts, dtype=object),
            changed_at=ts_col(t), old_values=pl.Series(oldv, dtype=pl.String), new_values=pl.Series(newv, dtype=pl.String),
            status=const("active", k + 1), created_at=ts_col(t), updated_at=ts_col(t),
            created_by=const("dept-admin", k + 1), updated_by=const("dept-admin", k + 1),
        ))
