"""Advance the synthetic world day by day, as the portals would live it.

``simulate(urls, days=N)`` continues from the latest submission day found in the data:
each new day brings new citizens and applications, moves some open applications forward
(review, decision, withdrawal — including applications submitted weeks ago, so rows of
older days change), a few citizens changing district, one scheme change and the model's
eligibility scores for the new submissions. It never injects dirty rows. It writes through
the portals' triggers (sql/citizen/010_audit_trail.sql): they write the audit logs, from the
rows' own updated_at, so a simulated day's trail is as deterministic as the day.

Deterministic for the same seed and starting state: every random draw comes from a stream
keyed by (seed, day), and everything read from the databases is read in a fixed order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
from psycopg import sql

from smart_warehouse_assets.synthetic import reference as ref
from smart_warehouse_assets.synthetic import rules
from smart_warehouse_assets.synthetic.core import (
    DAY, HOUR, IST, MINUTE, PORTALS, US, Calendar, Streams, SyntheticDataError, connect, const, copy_frame,
    date_of_day_number, ist_day_number, ist_day_start, new_uuids, office_time, time_of_day, ts_col,
)
from smart_warehouse_assets.synthetic.rules import ACTION_REMARK, ELIGIBILITY

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _us(dt: datetime | None) -> int:
    return 0 if dt is None else (dt - _EPOCH) // timedelta(microseconds=1)


def _office_time(rng: np.random.Generator, day: int) -> int:
    """One instant in office hours on the day."""
    return int(office_time(rng, np.array([day]))[0])


class _State:
    """What the simulator needs to know about the world, read in a fixed order."""

    def __init__(self, urls: Mapping[str, str]) -> None:
        with connect(urls["citizen"]) as c:
            row = c.execute("SELECT max(submitted_at), count(*) FROM service_applications").fetchone()
            if row[1] == 0:
                raise SyntheticDataError("the citizen portal holds no applications: run seed first")
            # The latest day lived: a day cut short at "now" may have audit rows (or, below,
            # health checks) but no submission yet; it must not be lived twice.
            latest = max(_us(row[0]), _us(c.execute("SELECT max(changed_at) FROM audit_log").fetchone()[0]))
            cits = c.execute("SELECT citizen_id::text, created_at, district FROM citizens "
                             "ORDER BY created_at, citizen_id").fetchall()
            self.cit_ids = np.array([r[0] for r in cits], dtype=object)
            self.cit_created = np.array([_us(r[1]) for r in cits], dtype=np.int64)
            self.cit_district = np.array([r[2] for r in cits], dtype=object)
            schemes = c.execute("SELECT scheme_id::text, scheme_code, benefit_amount, sla_days FROM schemes "
                                "WHERE status = 'active' ORDER BY scheme_code").fetchall()
            self.sch_ids = np.array([r[0] for r in schemes], dtype=object)
            self.sch_codes = [r[1] for r in schemes]
            self.sch_benefit = np.array([np.nan if r[2] is None else float(r[2]) for r in schemes])
            self.sch_sla = np.array([r[3] for r in schemes])
            # Popularity: what was applied for over the last four weeks.
            recent = c.execute(
                "SELECT scheme_id::text, count(*) FROM service_applications WHERE submitted_at >= %s "
                "GROUP BY 1 ORDER BY 1", (row[0] - timedelta(days=28),)).fetchall()
            pop = dict(recent)
            self.sch_pop = np.array([pop.get(s, 0) + 1 for s in self.sch_ids], dtype=float)
            self.daily_rate = sum(pop.values()) / 28.0
            self.app_serial = c.execute(
                "SELECT coalesce(max(substr(application_number, 12)::bigint), 0) FROM service_applications").fetchone()[0]
            opened = c.execute(
                "SELECT application_id::text, citizen_id::text, scheme_id::text, status, submitted_at, "
                "amount_requested, updated_at FROM service_applications "
                "WHERE status = ANY(%s) ORDER BY application_number", (list(rules.OPEN_STATUSES),)).fetchall()
        self.open = {r[0]: dict(citizen=r[1], scheme=r[2], status=r[3], sub=_us(r[4]),
                                req=None if r[5] is None else float(r[5]), updated=_us(r[6])) for r in opened}
        with connect(urls["dept"]) as c:
            wf = c.execute("SELECT scheme_code, workflow_id::text, department_id::text FROM workflows ORDER BY scheme_code").fetchall()
            self.workflow = {r[0]: (r[1], r[2]) for r in wf}
            depts = c.execute("SELECT department_id::text, parent_department_id::text, district FROM departments "
                              "WHERE department_type = 'district_office' ORDER BY department_code").fetchall()
            self.office_of = {(r[1], r[2]): r[0] for r in depts}
            users = c.execute("SELECT dept_user_id::text, department_id::text, employee_code FROM dept_users "
                              "WHERE status = 'active' ORDER BY employee_code").fetchall()
            self.users_of: dict[str, list[tuple[str, str]]] = {}
            for uid, dep, emp in users:
                self.users_of.setdefault(dep, []).append((uid, emp))
            ids = list(self.open)
            asg = c.execute("SELECT application_id::text, assignment_id::text, department_id::text, officer_id::text "
                            "FROM application_assignments WHERE application_id = ANY(%s::uuid[]) "
                            "ORDER BY application_id, assigned_at", (ids,)).fetchall()
            for app, aid, dep, off in asg:
                self.open[app].update(assignment=aid, office=dep, officer=off)
            steps = c.execute("SELECT application_id::text, max(step_number), max(action_at) FROM processing_actions "
                              "WHERE application_id = ANY(%s::uuid[]) GROUP BY 1", (ids,)).fetchall()
            for app, step, at in steps:
                self.open[app].update(step=step, last_action=_us(at))
            self.emp_of = {u: e for us in self.users_of.values() for u, e in us}
        with connect(urls["aiml"]) as c:
            m = c.execute("SELECT model_id::text FROM ml_models WHERE use_case_code = %s AND status = 'production' "
                          "ORDER BY model_version DESC LIMIT 1", (ELIGIBILITY,)).fetchone()
            self.eligibility_model = m[0]
            scores = c.execute("SELECT DISTINCT ON (application_id) application_id::text, eligibility_score "
                               "FROM predictions WHERE use_case_code = %s AND application_id = ANY(%s::uuid[]) "
                               "ORDER BY application_id, predicted_at DESC", (ELIGIBILITY, ids)).fetchall()
            for app, score in scores:
                self.open[app]["score"] = float(score)
        with connect(urls["monitor"]) as c:
            self.components = [r[0] for r in c.execute(
                "SELECT component_id::text FROM system_components WHERE status = 'active' ORDER BY component_code")]
            latest = max(latest, _us(c.execute("SELECT max(checked_at) FROM health_checks").fetchone()[0]))
        self.last_day = int(ist_day_number(np.array([latest]))[0])


class _Out:
    """Rows to insert and updates to apply, collected over the simulated days."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[dict]] = {}
        self.updates: dict[tuple[str, str], list[dict]] = {}

    def add(self, db: str, table: str, **row) -> None:
        self.rows.setdefault((db, table), []).append(row)

    def update(self, db: str, table: str, **row) -> None:
        self.updates.setdefault((db, table), []).append(row)


def _ts(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us) // US * US)


def simulate(urls: Mapping[str, str], *, days: int = 1, seed: int = 20260401,
             log: Callable[[str], None] = print, now: datetime | None = None) -> dict:
    """Advance the portals by ``days`` days past the latest submission day. Returns a summary:
    rows inserted and updated per table and ``changed_days`` (sorted IST dates of the
    submissions of every application inserted or updated).

    Nothing is written later than ``now`` (default: the clock; tests pin it). A day after
    today (IST) is refused; today is lived only up to ``now``: the events of the rest of
    the day do not happen, and applications whose intake (assignment, score,
    acknowledgement) would not be complete by ``now`` are not submitted yet. Decisions on
    older applications still happen on the simulated day. The result is deterministic for
    a given starting state, ``seed`` and ``now``.
    """
    missing = [k for k in PORTALS if k not in urls]
    if missing:
        raise SyntheticDataError(f"missing portal URL(s): {', '.join(missing)}")
    if days < 1:
        raise SyntheticDataError("days must be at least 1")
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise SyntheticDataError("now must be a timezone-aware datetime")
    limit = _us(now)
    today = int(ist_day_number(np.array([limit]))[0])
    t0 = time.perf_counter()
    st = _State(urls)
    first, last = st.last_day + 1, st.last_day + days
    if last > today:
        can = today - st.last_day
        raise SyntheticDataError(
            f"simulate --days {days} would reach {date_of_day_number(last)}, after today "
            f"({date_of_day_number(today)}, Asia/Kolkata): the portals hold days up to "
            f"{date_of_day_number(st.last_day)}, so "
            + (f"at most {can} day(s) can be simulated now" if can > 0 else
               "nothing can be simulated before tomorrow")
            + "; simulate never writes the future")
    cal = Calendar(st.last_day - 10, last + 10)
    out = _Out()
    changed: set[int] = set()
    app_status: dict[str, str] = {}
    for day in range(first, last + 1):
        _one_day(st, cal, Streams(seed, day), day, out, changed, app_status, limit)
        log(f"simulated {date_of_day_number(day)}" + (f" up to {now.astimezone(IST):%H:%M} IST" if day == today else ""))
    summary = _write(urls, out)
    summary["changed_days"] = [date_of_day_number(d).isoformat() for d in sorted(changed)]
    summary["days"] = [date_of_day_number(d).isoformat() for d in range(first, last + 1)]
    log(f"simulate: {sum(summary['inserted'].values()):,} rows inserted, "
        f"{sum(summary['updated'].values()):,} updated in {time.perf_counter() - t0:.1f} s")
    return summary


def _pick_officer(st: _State, rng: np.random.Generator, office: str) -> tuple[str, str]:
    users = st.users_of[office]
    return users[int(rng.integers(0, len(users)))]


# The longest chain of events a step writes after its first one: a decision is followed by
# the decision action 30 minutes later and the notice 5 minutes after that; an application
# by its assignment and score within 30 minutes.
_DECISION_SPAN = 40 * MINUTE
_INTAKE_SPAN = 30 * MINUTE


def _one_day(st: _State, cal: Calendar, streams: Streams, day: int, out: _Out, changed: set[int],
             app_status: dict[str, str], limit: int) -> None:
    """One IST day; every event before ``end``, the end of the day or ``limit`` (now)."""
    rng = streams("day")
    day_start = ist_day_start(day)
    end = min(day_start + DAY, limit)
    working = not bool(cal.is_off(np.array([day]))[0])

    # --- existing open applications move on
    for app_id in list(st.open):
        a = st.open[app_id]
        if "office" not in a:
            continue
        office, officer = a["office"], a["officer"]
        emp = st.emp_of.get(officer, "dept-portal")
        t = _office_time(rng, day)
        floor = max(a["sub"], a.get("last_action", a["sub"]), a["updated"]) + 10 * MINUTE
        if t <= floor:
            t = floor + int(rng.integers(5, 60)) * MINUTE
        if t + _DECISION_SPAN >= end:
            continue
        step = a.get("step", 0)
        u = rng.random()
        new_status = None
        if u < rules.WITHDRAW_DAILY:
            new_status = "withdrawn"
            out.add("dept", "processing_actions", action_id=_uuid(rng), application_id=app_id,
                    assignment_id=a["assignment"], department_id=office, officer_id=officer, action_type="closed",
                    action_at=t, step_number=step + 1, remarks=ACTION_REMARK["closed"], by=emp)
            step += 1
        elif not working:
            continue
        elif a["status"] == "submitted":
            if rng.random() < rules.REVIEW_DAILY:
                new_status = "under_review"
                for k, typ in enumerate(("received", "document_check")):
                    out.add("dept", "processing_actions", action_id=_uuid(rng), application_id=app_id,
                            assignment_id=a["assignment"], department_id=office, officer_id=officer, action_type=typ,
                            action_at=t + k * 20 * MINUTE, step_number=step + 1 + k, remarks=ACTION_REMARK[typ], by=emp)
                step += 2
                t += 20 * MINUTE
        else:
            sla = st.sch_sla[list(st.sch_ids).index(a["scheme"])] if a["scheme"] in st.sch_ids else 30
            age = day - int(ist_day_number(np.array([a["sub"]]))[0])
            p = rules.decision_odds_daily(age, sla)
            if a["req"] is not None and a["req"] < 0:
                p = 0.0  # never decide a row that is already dirty: it would gain a second defect
            if rng.random() < p:
                score = a.get("score", 0.6)
                new_status = "approved" if rng.random() < rules.approval_odds_for_score(score) else "rejected"
                out.add("dept", "processing_actions", action_id=_uuid(rng), application_id=app_id,
                        assignment_id=a["assignment"], department_id=office, officer_id=officer, action_type="forwarded",
                        action_at=t, step_number=step + 1, remarks=ACTION_REMARK["forwarded"], by=emp)
                t += 30 * MINUTE
                out.add("dept", "processing_actions", action_id=_uuid(rng), application_id=app_id,
                        assignment_id=a["assignment"], department_id=office, officer_id=officer, action_type=new_status,
                        action_at=t, step_number=step + 2, remarks=ACTION_REMARK[new_status], by=emp)
                step += 2
        if new_status is None:
            continue
        old = a["status"]
        decided = new_status in rules.DECIDED_STATUSES
        amount = None
        if new_status == "approved" and a["req"] is not None:
            amount = (a["req"] if rng.random() < rules.FULL_APPROVAL_SHARE else
                      max(rules.MIN_AMOUNT, round(a["req"] * float(rng.uniform(*rules.APPROVAL_FRACTION)), -2)))
            amount = min(amount, a["req"])
        out.update("citizen", "service_applications", application_id=app_id, status=new_status,
                   decided_at=t if decided else None, amount_approved=amount, updated_at=t,
                   updated_by="citizen" if new_status == "withdrawn" else emp)
        out.add("citizen", "application_status_history", status_history_id=_uuid(rng), application_id=app_id,
                from_status=old, to_status=new_status, changed_at=t, by="citizen" if new_status == "withdrawn" else emp)
        done = new_status in rules.CLOSED_STATUSES
        out.update("dept", "application_assignments", assignment_id=a["assignment"],
                   assignment_status="completed" if done else "in_progress", completed_at=t if done else None,
                   updated_at=t, updated_by=emp)
        if decided:
            out.add("citizen", "notifications", notification_id=_uuid(rng), citizen_id=a["citizen"],
                    application_id=app_id, channel="sms", template_code="APP_DECIDED",
                    subject=rules.NOTICES["APP_DECIDED"], sent_at=t + rules.DECIDED_NOTICE_DELAY)
        if new_status == "approved" and amount is not None and t + 2 * HOUR < end:
            out.add("citizen", "payments", payment_id=(pid := _uuid(rng)), application_id=app_id,
                    citizen_id=a["citizen"], amount=amount, payment_mode="dbt",
                    transaction_ref=rules.transaction_ref(pid), paid_at=t + 2 * HOUR)
        changed.add(int(ist_day_number(np.array([a["sub"]]))[0]))
        a.update(status=new_status, updated=t, step=step, last_action=t)
        app_status[app_id] = new_status
        if done:
            del st.open[app_id]

    # --- new citizens
    n_cit = int(rng.poisson(max(len(st.cit_ids) * 0.0035, 0.5)))
    cnew = []
    for _ in range(n_cit):
        d = ref.DISTRICTS[int(rng.integers(0, len(ref.DISTRICTS)))]
        g = int(rng.choice(len(rules.GENDERS), p=rules.GENDER_P))
        first = rules.FIRST_NAMES[g]
        first = first[int(rng.integers(0, len(first)))]
        last = ref.SURNAMES[int(rng.integers(0, len(ref.SURNAMES)))]
        cid = _uuid(rng)
        t = day_start + int(time_of_day(rng, 1, "online")[0])
        age_days = int(rules.age_days(rng, 1)[0])
        row = dict(citizen_id=cid, full_name=f"{first} {last}",
                   email=f"{rules.name_handle(first, last)}{int(rng.integers(1, 999))}@example.in",
                   phone=rules.mobile_number(int(rng.integers(*rules.MOBILE_RANGE))),
                   id_number_hash=rules.id_number_hash(cid.encode()),
                   date_of_birth=date_of_day_number(day - age_days), gender=rules.GENDERS[g],
                   address_line=rules.address_line(int(rng.integers(*rules.HOUSE_NUMBERS)),
                                                   ref.STREET_WORDS[int(rng.integers(0, len(ref.STREET_WORDS)))], "Road"),
                   city=d[2], district=d[1], state=d[0],
                   pincode=rules.pincode(d[3], int(rng.integers(*rules.PINCODE_SUFFIXES))),
                   preferred_language="en", created_at=t)
        if t < end:
            out.add("citizen", "citizens", **row)
            cnew.append((t, cid, d[1]))
    # --- a few citizens move district
    k = max(1, round(len(st.cit_ids) * rules.MOVER_DAILY))
    for i in np.sort(rng.choice(len(st.cit_ids), size=min(k, len(st.cit_ids)), replace=False)):
        d = ref.DISTRICTS[int(rng.integers(0, len(ref.DISTRICTS)))]
        if d[1] == st.cit_district[i]:
            continue
        t = day_start + int(time_of_day(rng, 1, "online")[0])
        pincode = rules.pincode(d[3], int(rng.integers(*rules.PINCODE_SUFFIXES)))
        if t >= end:
            continue
        out.update("citizen", "citizens", citizen_id=st.cit_ids[i], district=d[1], city=d[2], state=d[0],
                   pincode=pincode, updated_at=t, updated_by="citizen")
        st.cit_district[i] = d[1]
    # Registered citizens stay in order of registration (applicants are drawn from a prefix).
    for t, cid, dist in sorted(cnew):
        st.cit_ids = np.append(st.cit_ids, cid)
        st.cit_created = np.append(st.cit_created, t)
        st.cit_district = np.append(st.cit_district, dist)
    # --- one scheme changes its SLA or benefit
    j = int(rng.integers(0, len(st.sch_ids)))
    t = _office_time(rng, day)
    old_b, old_s = st.sch_benefit[j], int(st.sch_sla[j])
    new_b, new_s = old_b, old_s
    if not np.isnan(old_b) and rng.random() < 0.5:
        new_b = round(old_b * 1.05, -1)
    else:
        new_s = max(rules.MIN_SLA_DAYS, old_s + int(rng.choice([-2, 2, 5])))
    if t < end:
        st.sch_benefit[j], st.sch_sla[j] = new_b, new_s
        out.update("citizen", "schemes", scheme_id=st.sch_ids[j],
                   benefit_amount=None if np.isnan(new_b) else float(new_b),
                   sla_days=int(new_s), updated_at=t, updated_by="scheme-admin")

    # --- new applications
    weight = float(cal.submission_weight(np.array([day]))[0])
    n_app = int(rng.poisson(st.daily_rate * weight))
    p = st.sch_pop / st.sch_pop.sum()
    times = np.sort(day_start + time_of_day(rng, n_app, "online"))
    for t in times:
        t = int(t)
        if t + _INTAKE_SPAN >= end:
            break  # not received yet: its assignment and score would come after now
        avail = int(np.searchsorted(st.cit_created, t - 5 * MINUTE))
        if avail == 0:
            continue
        ci = int(rng.integers(0, avail))
        s = int(rng.choice(len(p), p=p))
        code = st.sch_codes[s]
        st.app_serial += 1
        app_id = _uuid(rng)
        channel = str(rng.choice(rules.CHANNELS, p=rules.CHANNEL_P))
        draft = rng.random() < rules.DRAFT_SHARE
        created = t - int(rng.integers(2, 180)) * MINUTE
        created = max(created, int(st.cit_created[ci]) + MINUTE)
        benefit = st.sch_benefit[s]
        req = None if np.isnan(benefit) else float(
            benefit if rng.random() < 1 - rules.PARTIAL_REQUEST_SHARE
            else max(rules.MIN_AMOUNT, round(benefit * float(rng.uniform(*rules.REQUEST_FRACTION)), -2)))
        number = f"SW{date_of_day_number(int(ist_day_number(np.array([created]))[0])).strftime('%Y%m%d')}-{st.app_serial:07d}"
        by = rules.CHANNEL_ACTOR[rules.CHANNELS.index(channel)]
        out.add("citizen", "service_applications", application_id=app_id, application_number=number,
                citizen_id=st.cit_ids[ci], scheme_id=st.sch_ids[s], status="draft" if draft else "submitted",
                channel=channel, submitted_at=None if draft else t, amount_requested=req, created_at=created,
                updated_at=created if draft else t, by=by)
        out.add("citizen", "application_status_history", status_history_id=_uuid(rng), application_id=app_id,
                from_status=None, to_status="draft", changed_at=created, by="citizen")
        if draft:
            continue
        out.add("citizen", "application_status_history", status_history_id=_uuid(rng), application_id=app_id,
                from_status="draft", to_status="submitted", changed_at=t, by="citizen")
        out.add("citizen", "notifications", notification_id=_uuid(rng), citizen_id=st.cit_ids[ci],
                application_id=app_id, channel="sms", template_code="APP_SUBMITTED",
                subject=rules.NOTICES["APP_SUBMITTED"], sent_at=t + rules.SUBMITTED_NOTICE_DELAY)
        cat = next((x[2] for x in ref.SCHEMES if x[0] == code), "certificate")
        types = ref.DOCUMENT_TYPES_BY_CATEGORY.get(cat, ("identity_proof",))
        for jd in range(min(len(types), 3)):
            out.add("citizen", "documents", document_id=_uuid(rng), application_id=app_id, citizen_id=st.cit_ids[ci],
                    document_type=types[jd], file_name=f"{types[jd]}_{jd + 1}.pdf",
                    uploaded_at=created + (t - created) * (jd + 1) // 4)
        # Routing and the eligibility score.
        wf_id, dept = st.workflow.get(code, (None, None))
        if dept is None:
            continue
        office = st.office_of.get((dept, st.cit_district[ci]), dept)
        officer, emp = _pick_officer(st, rng, office)
        assigned = t + int(rng.integers(*rules.ASSIGN_DELAY_MINUTES)) * MINUTE
        assignment = _uuid(rng)
        out.add("dept", "application_assignments", assignment_id=assignment, application_id=app_id,
                department_id=office, officer_id=officer, workflow_id=wf_id, assigned_at=assigned)
        out.add("dept", "dept_notifications", dept_notification_id=_uuid(rng), dept_user_id=officer,
                department_id=office, application_id=app_id, sent_at=assigned)
        score = round(float(np.clip(rules.sigmoid(rng.normal(0.9, 1.7)), *rules.SCORE_RANGE)), 4)
        pred_at = t + int(rng.integers(*rules.SCORE_DELAY_MINUTES)) * MINUTE
        if pred_at < end:
            out.add("aiml", "predictions", prediction_id=_uuid(rng), model_id=st.eligibility_model,
                    application_id=app_id, citizen_id=st.cit_ids[ci], scheme_id=st.sch_ids[s],
                    eligibility_score=score, confidence_score=round(min(1.0, rules.confidence(score)), 4),
                    predicted_label=rules.eligibility_label(score), predicted_at=pred_at)
        st.open[app_id] = dict(citizen=st.cit_ids[ci], scheme=st.sch_ids[s], status="submitted", sub=t, req=req,
                               updated=t, assignment=assignment, office=office, officer=officer, step=0,
                               last_action=assigned, score=score)
        changed.add(day)

    # --- monitoring: the day's health checks
    per_day = 24
    for comp in st.components:
        for h in range(per_day):
            t = day_start + h * (DAY // per_day) + int(rng.integers(0, 30)) * US
            if t >= end:
                break
            healthy = rng.random() < 0.98
            out.add("monitor", "health_checks", health_check_id=_uuid(rng), component_id=comp,
                    status="healthy" if healthy else "degraded", checked_at=t,
                    response_ms=int(rng.lognormal(4.0, 0.5) * (1 if healthy else rules.DEGRADED_SLOWDOWN)))


def _uuid(rng: np.random.Generator) -> str:
    return new_uuids(rng, 1)[0].decode()


# ------------------------------------------------------------------------- writing

_AUDIT = ("created_at", "updated_at", "created_by", "updated_by")


def _insert_frame(table: str, rows: list[dict]) -> pl.DataFrame:
    """Complete the collected rows with the columns each table needs."""
    df = pl.DataFrame(rows, infer_schema_length=None)
    n = df.height
    ts = [c for c in df.columns if c.endswith("_at")]
    df = df.with_columns([pl.col(c).cast(pl.Int64).map_batches(lambda s: ts_col(s.fill_null(0).to_numpy(), s.is_null().to_numpy())) for c in ts])
    first_ts = {"citizens": "created_at", "service_applications": "created_at", "application_status_history": "changed_at",
                "audit_log": "changed_at", "notifications": "sent_at", "payments": "paid_at", "documents": "uploaded_at",
                "processing_actions": "action_at", "application_assignments": "assigned_at",
                "dept_notifications": "sent_at", "predictions": "predicted_at", "health_checks": "checked_at"}[table]
    extra = {}
    if "created_at" not in df.columns:
        extra["created_at"] = pl.col(first_ts)
    if "updated_at" not in df.columns:
        extra["updated_at"] = pl.col(first_ts)
    by = df["by"] if "by" in df.columns else None
    actor = {"citizens": "self-registration", "notifications": "notifier", "payments": "payment-gateway",
             "documents": "citizen", "application_assignments": "auto-router", "dept_notifications": "workflow-engine",
             "predictions": "model-serving", "health_checks": "prober"}.get(table, "system")
    df = df.with_columns(**extra)
    df = df.with_columns(created_by=by if by is not None else const(actor, n),
                         updated_by=by if by is not None else const(actor, n))
    if "by" in df.columns:
        df = df.drop("by")
    defaults = {
        "citizens": {"status": "active"},
        "service_applications": {},
        "application_status_history": {"status": "active", "changed_by": None},
        "audit_log": {"status": "active"},
        "notifications": {"status": "active", "delivery_status": "delivered", "body": None},
        "payments": {"status": "active", "payment_status": "success"},
        "documents": {"status": "active", "mime_type": "application/pdf", "file_size_bytes": 180_000,
                      "verification_status": "pending"},
        "processing_actions": {"status": "active"},
        "application_assignments": {"status": "active", "priority": "normal", "assignment_status": "assigned"},
        "dept_notifications": {"status": "active", "notification_type": "assignment",
                               "message": rules.DEPT_NOTICES["assignment"]},
        "predictions": {"status": "active", "use_case_code": ELIGIBILITY},
        "health_checks": {},
    }[table]
    for col, val in defaults.items():
        if col == "changed_by":
            df = df.with_columns(changed_by=pl.col("created_by"))
        elif col == "body":
            df = df.with_columns(body=pl.col("subject"))
        elif col not in df.columns:
            df = df.with_columns(pl.lit(val).alias(col))
    if table == "service_applications":
        df = df.with_columns(status=pl.col("status"))
    return df


_KEY = {"service_applications": "application_id", "application_assignments": "assignment_id",
        "citizens": "citizen_id", "schemes": "scheme_id"}
_TYPES = {"status": "text", "decided_at": "timestamptz", "amount_approved": "numeric", "updated_at": "timestamptz",
          "updated_by": "text", "assignment_status": "text", "completed_at": "timestamptz", "district": "text",
          "city": "text", "state": "text", "pincode": "text", "benefit_amount": "numeric", "sla_days": "integer"}


def _apply_updates(conn, table: str, rows: list[dict]) -> int:
    """Apply row updates (last one wins per key) through a temporary table and one UPDATE."""
    key = _KEY[table]
    last: dict[str, dict] = {}
    for r in rows:
        last.setdefault(r[key], {}).update(r)
    cols = sorted({c for r in last.values() for c in r if c != key})
    df = pl.DataFrame([{c: r.get(c) for c in [key, *cols]} for _, r in sorted(last.items())], infer_schema_length=None)
    for c in cols:
        if c.endswith("_at"):
            df = df.with_columns(pl.col(c).cast(pl.Int64).map_batches(
                lambda s: ts_col(s.fill_null(0).to_numpy(), s.is_null().to_numpy())))
    tmp = sql.Identifier(f"_sim_{table}")
    conn.execute(sql.SQL("CREATE TEMP TABLE {} ({} uuid, {}) ON COMMIT DROP").format(
        tmp, sql.Identifier(key), sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_TYPES[c])) for c in cols)))
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(tmp)) as cp:
        cp.write(df.write_csv(include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%z"))
    # Columns present only for some rows keep their old value where the row has none,
    # except decided_at/amount_approved/completed_at, which the status change owns.
    owned = {"decided_at", "amount_approved", "completed_at"}
    sets = sql.SQL(", ").join(
        sql.SQL("{c} = u.{c}").format(c=sql.Identifier(c)) if c in owned or c in ("status", "updated_at")
        else sql.SQL("{c} = coalesce(u.{c}, t.{c})").format(c=sql.Identifier(c)) for c in cols)
    cur = conn.execute(sql.SQL("UPDATE {t} AS t SET {sets} FROM {tmp} AS u WHERE t.{k} = u.{k}").format(
        t=sql.Identifier(table), sets=sets, tmp=tmp, k=sql.Identifier(key)))
    return cur.rowcount


def _write(urls: Mapping[str, str], out: _Out) -> dict:
    inserted: dict[str, int] = {}
    updated: dict[str, int] = {}
    order = {"citizen": ["citizens", "service_applications", "application_status_history", "documents",
                         "notifications", "payments"],
             "dept": ["application_assignments", "processing_actions", "dept_notifications"],
             "aiml": ["predictions"], "monitor": ["health_checks"]}
    for db in PORTALS:
        with connect(urls[db]) as conn:
            for table in order[db]:
                rows = out.rows.get((db, table))
                if rows:
                    df = _insert_frame(table, rows)
                    copy_frame(conn, table, df, freeze=False)
                    inserted[f"{db}.{table}"] = df.height
            for (udb, table), rows in sorted(out.updates.items()):
                if udb == db and rows:
                    updated[f"{db}.{table}"] = _apply_updates(conn, table, rows)
            conn.commit()
    return {"inserted": inserted, "updated": updated}
