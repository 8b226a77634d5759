"""The citizen portal's tables: schemes, citizens and what follows each application.

Schemes and citizens come first (the department side reads the schemes to build its
workflows, applications draw their applicants from the citizens). Once the applications'
lifecycle is fixed (``applications``), the documents, notices, payments, feedback and the
audit log follow from it, block by block of applications. Citizens are made block by block
too, with their dirty rows (``dirty``) planted as they go.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from smart_warehouse_assets.synthetic import reference as ref
from smart_warehouse_assets.synthetic import rules
from smart_warehouse_assets.synthetic.core import (
    DAY, HOUR, MINUTE, const, frame, ist_day_number, jdump, new_uuid_bytes, nullify, random_hex, time_of_day, ts_col,
    uuid_text,
)
from smart_warehouse_assets.synthetic.rules import APPROVED
from smart_warehouse_assets.synthetic.world import CITIZEN_BLOCK

CITIZENS_PER_SCALE = 20_000


class CitizenTables:
    """Builder mixin (see ``world.Period``) for the tables of the citizen portal."""

    def schemes(self) -> None:
        """The schemes; some change benefit or SLA in the period (finished with the dirty rows)."""
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
                sla[i] = max(rules.MIN_SLA_DAYS, sla[i] + int(rng.choice([-5, -3, 5, 7])))
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

    def citizens(self) -> None:
        """The registered citizens, a few moving district in the period: what applications
        read of each (id, registration, district, e-mail or not) for the whole population,
        the rest of their rows block by block (with their dirty rows and audit trail)."""
        rng = self.rng("citizens")
        n = max(10, round(CITIZENS_PER_SCALE * self.scale))
        before = rng.random(n) < 0.7
        created = np.where(before, self.S - rng.integers(1, 730, n) * DAY + time_of_day(rng, n, "online"),
                           self.sample_period_times(rng, n))
        del before
        created.sort()
        ids = new_uuid_bytes(rng, n)
        g = rng.choice(len(rules.GENDERS), size=n, p=rules.GENDER_P).astype(np.int8)
        weights = np.array([3.0 if d[1] in ref.METRO_DISTRICTS else 1.0 for d in ref.DISTRICTS])
        dist = rng.choice(len(ref.DISTRICTS), size=n, p=weights / weights.sum()).astype(np.int16)
        has_email = rng.random(n) < 0.72
        # A few citizens move to another district during the period.
        movable = np.flatnonzero(created < self.H - 5 * DAY)
        movers = (np.sort(rng.choice(movable, size=max(1, round(rules.MOVER_SHARE * n)), replace=False)) if len(movable)
                  else np.array([], int))
        del movable
        lo = np.maximum(created[movers], self.S) + HOUR
        move_at = lo + (rng.random(len(movers)) * (self.H - HOUR - lo)).astype(np.int64)
        new_dist = ((dist[movers] + rng.integers(1, len(ref.DISTRICTS), len(movers))) % len(ref.DISTRICTS)).astype(np.int16)
        move_from = dist[movers].copy()
        dist[movers] = new_dist
        self.cit_ids, self.cit_created, self.cit_dist, self.cit_gender = ids, created, dist, g
        self.cit_moves = (movers, move_at, move_from, new_dist)
        self.cit_has_email = has_email
        self.dirty_citizens()
        for b in range(-(-n // self.CITIZENS_PER_BLOCK)):
            self.citizen_block(b)
        self.world.close("citizen", "citizens")

    def citizen_block(self, b: int) -> None:
        """The rows of one block of citizens and their audit trail (registration, moves)."""
        rng = self.block_streams(CITIZEN_BLOCK, b)("citizens")
        lo, hi = b * self.CITIZENS_PER_BLOCK, min(len(self.cit_ids), (b + 1) * self.CITIZENS_PER_BLOCK)
        n = hi - lo
        ids, created, dist, g = self.cit_ids[lo:hi], self.cit_created[lo:hi], self.cit_dist[lo:hi], self.cit_gender[lo:hi]
        has_email = self.cit_has_email[lo:hi]
        gender = np.array(rules.GENDERS, dtype=object)[g]
        male, female, other = (np.array(names, dtype=object)[rng.integers(0, len(names), n)] for names in rules.FIRST_NAMES)
        first = np.where(g == 0, male, np.where(g == 1, female, other))
        last = np.array(ref.SURNAMES, dtype=object)[rng.integers(0, len(ref.SURNAMES), n)]
        dob_day = self.d0 - rules.age_days(rng, n)
        num = rng.integers(1, 999, n)
        status = rng.choice(np.array(["active", "inactive", "deleted"], dtype=object), size=n, p=[0.975, 0.02, 0.005])
        channel_created = np.where(rng.random(n) < 0.8, "self-registration", "csc-operator")
        movers, move_at, old_d, new_d = self.cit_moves
        here = slice(np.searchsorted(movers, lo), np.searchsorted(movers, hi))
        updated = created.copy()
        updated[movers[here] - lo] = move_at[here]
        D = ref.DISTRICTS
        district = np.array([D[i][1] for i in dist], dtype=object)
        odd, odd_style, alt, alt_pick = self.cit_dirty
        for j, s in zip(odd, odd_style):
            if lo <= j < hi:
                d = district[j - lo]
                district[j - lo] = ["  " + d.lower() + " ", d.upper(), " " + d, d.lower(), d.replace(" ", "  ") + "  "][s]
        spelling = {"male": ("M", "MALE"), "female": ("F", "Female"), "other": ("T", "T")}
        for j, r in zip(alt, alt_pick):
            if lo <= j < hi:
                gender[j - lo] = spelling[gender[j - lo]][r]
        self.world.put("citizen", "citizens", frame(
            citizen_id=ids,
            full_name=pl.Series(first.tolist()) + " " + pl.Series(last.tolist()),
            email=nullify(pl.Series([f"{rules.name_handle(a, b)}{k}@{d}" for a, b, k, d in
                                     zip(first, last, num, np.array(ref.EMAIL_DOMAINS, dtype=object)[rng.integers(0, 4, n)])]),
                          ~has_email),
            phone=nullify(pl.Series([rules.mobile_number(v) for v in rng.integers(*rules.MOBILE_RANGE, n)]),
                          rng.random(n) < 0.04),
            id_number_hash=pl.Series([rules.id_number_hash(u) for u in uuid_text(ids)]),
            date_of_birth=pl.Series(dob_day - rng.integers(0, 365, n)).cast(pl.Date),
            gender=gender,
            address_line=pl.Series([rules.address_line(h, w, k) for h, w, k in zip(
                rng.integers(*rules.HOUSE_NUMBERS, n), np.array(ref.STREET_WORDS, dtype=object)[rng.integers(0, len(ref.STREET_WORDS), n)],
                np.array(ref.STREET_KINDS, dtype=object)[rng.integers(0, len(ref.STREET_KINDS), n)])]),
            city=np.array([D[i][2] for i in dist], dtype=object),
            district=district,
            state=np.array([D[i][0] for i in dist], dtype=object),
            pincode=pl.Series([rules.pincode(D[i][3], k) for i, k in zip(dist, rng.integers(*rules.PINCODE_SUFFIXES, n))]),
            preferred_language=np.array(ref.LANGUAGES, dtype=object)[rng.integers(0, len(ref.LANGUAGES), n)],
            status=status, created_at=ts_col(created), updated_at=ts_col(updated),
            created_by=channel_created.astype(object),
            updated_by=np.where(updated > created, "citizen", channel_created).astype(object),
        ))
        # Their audit trail: the registration, and the move for those who moved.
        k = here.stop - here.start
        self.audit_rows(
            self.block("audit_log"), np.full(n + k, "citizens", dtype=object),
            np.concatenate([ids, self.cit_ids[movers[here]]]),
            np.concatenate([np.full(n, "insert", dtype=object), np.full(k, "update", dtype=object)]),
            np.full(n + k, "citizen", dtype=object), np.concatenate([created, move_at[here]]),
            [None] * n + [jdump({"district": D[i][1]}) for i in old_d[here]],
            [jdump({"status": "active"})] * n + [jdump({"district": D[i][1]}) for i in new_d[here]])

    def audit_rows(self, rng: np.random.Generator, entity_table: np.ndarray, entity: np.ndarray, action: np.ndarray,
                   actor: np.ndarray, at: np.ndarray, old: list, new: list) -> None:
        """Rows of the citizen portal's audit log (see ``DeptTables.dept_audit_log``)."""
        m = len(entity)
        self.world.put("citizen", "audit_log", frame(
            audit_id=new_uuid_bytes(rng, m), entity_table=entity_table, entity_id=entity, action=action, actor=actor,
            changed_at=ts_col(at), old_values=pl.Series(old, dtype=pl.String), new_values=pl.Series(new, dtype=pl.String),
            status=const("active", m), created_at=ts_col(at), updated_at=ts_col(at), created_by=actor, updated_by=actor,
        ))

    # ------------------------------------------------------------------ what follows an application
    def documents(self) -> None:
        """The uploaded documents; their check is left on ``self.docs`` for the department's side."""
        rng = self.block("documents")
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
        self.docs = dict(ids=ids, app=app, checked=checked, result=result, verified_at=verified_at)

    def notifications(self) -> None:
        """Notices to citizens: submission, decision, withdrawal, and reminders for drafts."""
        rng = self.block("notifications")
        a = self.app
        H = self.H
        n = len(a["ids"])
        idx = np.arange(n)
        email = self.cit_has_email[a["cit"]]
        dec_ok = a["decided_h"] & (a["decided"] + rules.DECIDED_NOTICE_DELAY < H)
        parts = [
            (idx[~a["draft"]], "sms", "APP_SUBMITTED", a["sub"] + rules.SUBMITTED_NOTICE_DELAY, ~a["draft"]),
            (idx[dec_ok], "sms", "APP_DECIDED", a["decided"] + rules.DECIDED_NOTICE_DELAY, dec_ok),
            (idx[dec_ok & email], "email", "APP_DECIDED", a["decided"] + rules.DECIDED_NOTICE_DELAY + MINUTE, dec_ok & email),
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
        subject = np.array([rules.NOTICES[t] for t in template], dtype=object)
        self.world.put("citizen", "notifications", frame(
            notification_id=new_uuid_bytes(rng, m), citizen_id=self.cit_ids[a["cit"][app]], application_id=a["ids"][app],
            channel=channel, template_code=template, subject=subject,
            body=subject,
            sent_at=ts_col(sent), read_at=ts_col(read_at, ~read), delivery_status=deliv,
            status=const("active", m), created_at=ts_col(sent), updated_at=ts_col(np.where(read, read_at, sent)),
            created_by=const("notifier", m), updated_by=const("notifier", m),
        ))

    def payments(self) -> None:
        """Benefit payments of approved applications, a few days after the decision."""
        rng = self.block("payments")
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
            transaction_ref=pl.Series([rules.transaction_ref(u) for u in uuid_text(ids).astype(str)]),
            paid_at=ts_col(paid[idx]), payment_status=np.where(ok, "success", "failed").astype(object),
            status=const("active", m), created_at=ts_col(paid[idx]), updated_at=ts_col(paid[idx]),
            created_by=const("payment-gateway", m), updated_by=const("payment-gateway", m),
        ))

    def feedback(self) -> None:
        """Ratings some citizens give after the decision."""
        rng = self.block("feedback")
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
        """The applications' audit trail: each one started, and decided where it was."""
        a = self.app
        n = len(a["ids"])
        dec = np.flatnonzero(a["decided_h"])
        k = len(dec)
        self.audit_rows(
            self.block("audit_log"), np.full(n + k, "service_applications", dtype=object),
            np.concatenate([a["ids"], a["ids"][dec]]),
            np.concatenate([np.full(n, "insert", dtype=object), np.full(k, "update", dtype=object)]),
            np.concatenate([np.full(n, "citizen", dtype=object), self.user_emp[a["officer"][dec]]]),
            np.concatenate([a["created"], a["decided"][dec]]),
            [None] * n + [jdump({"status": "under_review"})] * k,
            [jdump({"status": "draft"})] * n + np.where(a["status"][dec] == APPROVED, jdump({"status": "approved"}),
                                                         jdump({"status": "rejected"})).tolist())

    def scheme_audit_log(self) -> None:
        """The schemes' changes in the period, in the audit log."""
        ch = np.flatnonzero(self.sch_change_at < np.iinfo(np.int64).max)
        k = len(ch)
        self.audit_rows(
            self.rng("audit_log.schemes"), np.full(k, "schemes", dtype=object), self.sch_ids[ch],
            np.full(k, "update", dtype=object), np.full(k, "scheme-admin", dtype=object), self.sch_change_at[ch],
            [jdump({"benefit_amount": None if np.isnan(self.sch_old_benefit[i]) else self.sch_old_benefit[i],
                    "sla_days": int(self.sch_old_sla[i])}) for i in ch],
            [jdump({"benefit_amount": None if np.isnan(self.sch_benefit[i]) else self.sch_benefit[i],
                    "sla_days": int(self.sch_sla[i])}) for i in ch])
