"""The AI/ML portal's tables: models, their predictions on applications, and ML operations.

The eligibility model scores each submission (its version changes once in the period),
an SLA-breach model scores some reviews and a nightly batch job scores the drafts for
dropout; pipelines, monitoring and the analytics cache follow a daily schedule.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from smart_warehouse_assets.synthetic import rules
from smart_warehouse_assets.synthetic.core import (
    DAY, HOUR, MINUTE, US, const, frame, ist_day_number, ist_day_start, jdump, new_uuid_bytes, nullify, random_hex,
    ts_col, uuid_col,
)
from smart_warehouse_assets.synthetic.rules import DROPOUT_USE_CASE, ELIGIBILITY, SLA_USE_CASE


class AimlTables:
    """Builder mixin (see ``world.Period``) for the tables of the AI/ML portal."""

    def models(self) -> None:
        """Model versions per use case (eligibility switches version in the period), experiments and runs."""
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
        self.world.put_whole("aiml", "ml_models", frame(
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
        self.world.put_whole("aiml", "mlflow_experiments", frame(
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
        self.world.put_whole("aiml", "mlflow_runs", frame(
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

    def plan_batch_jobs(self) -> None:
        """The nightly batch jobs of the period (the dropout job scores yesterday's drafts;
        its row count is added up block by block, see ``predictions``)."""
        jr = self.rng("batch_prediction_jobs")
        job_days = self.period_days()
        jobs_uc = [DROPOUT_USE_CASE, "APPLICATION_VOLUME_FORECAST", "BENEFIT_FRAUD_DETECTION", "SCHEME_RECOMMENDATION"]
        job_uc = np.repeat(np.array(jobs_uc, dtype=object), len(job_days))
        job_day = np.tile(job_days, len(jobs_uc))
        nj = len(job_uc)
        sched = ist_day_start(job_day) + 2 * HOUR + np.repeat(np.arange(len(jobs_uc)), len(job_days)) * 15 * MINUTE
        started = sched + jr.integers(0, 120, nj) * US
        finished = started + jr.integers(2, 40, nj) * MINUTE
        failed = jr.random(nj) < 0.03
        job_model = np.concatenate([self.model_for(c, sched[job_uc == c]) for c in jobs_uc])
        job_ids = new_uuid_bytes(jr, nj)
        others = np.where(job_uc == DROPOUT_USE_CASE, 0, jr.integers(100, 5000, nj))
        self.jobs = dict(uc=job_uc, sched=sched, started=started, finished=finished, failed=failed, model=job_model,
                         ids=job_ids, scored=others)

    def batch_prediction_jobs(self) -> None:
        j = self.jobs
        nj = len(j["ids"])
        rows_scored = np.where(j["failed"], 0, j["scored"])
        self.world.put_whole("aiml", "batch_prediction_jobs", frame(
            batch_prediction_job_id=j["ids"], model_id=self.model_ids[j["model"]], use_case_code=j["uc"],
            scheduled_for=ts_col(j["sched"]), started_at=ts_col(j["started"]), finished_at=ts_col(j["finished"]),
            job_status=np.where(j["failed"], "failed", "succeeded").astype(object),
            rows_scored=pl.Series(rows_scored.astype(np.int32)),
            error_message=nullify(pl.Series(["worker lost connection to feature store"] * nj), ~j["failed"]),
            status=const("active", nj), created_at=ts_col(j["sched"] - HOUR), updated_at=ts_col(j["finished"]),
            created_by=const("scheduler", nj), updated_by=const("scheduler", nj),
        ))

    def predictions(self) -> None:
        """Eligibility scores at submission, SLA-breach scores at review, nightly dropout scoring of drafts."""
        rng = self.block("predictions")
        a = self.app
        H = self.H
        el = np.flatnonzero(~a["draft"] & (rng.random(len(a["ids"])) < 0.93))
        t_el = a["sub"][el] + rng.integers(*rules.SCORE_DELAY_MINUTES, len(el)) * MINUTE
        el, t_el = el[t_el < H], t_el[t_el < H]
        score = np.clip(np.round(rules.sigmoid(1.5 * a["z"][el] + rng.normal(0.45, 0.7, len(el))), 4), *rules.SCORE_RANGE)
        sla_i = np.flatnonzero(a["reviewed"] & (rng.random(len(a["ids"])) < 0.3))
        t_sla = a["review"][sla_i] + 5 * MINUTE
        sla_i, t_sla = sla_i[t_sla < H], t_sla[t_sla < H]
        breach = ((a["decided"][sla_i] - a["sub"][sla_i]) > a["sla"][sla_i] * DAY) ^ (rng.random(len(sla_i)) < 0.2)
        # The nightly dropout job scores the applications started the day before that are still
        # drafts when it runs: most are submitted later that day or the next, some never are.
        j = self.jobs
        dday = ist_day_number(a["created"]) + 1
        dr = np.flatnonzero((dday >= self.d0) & (dday < self.d0 + self.days))
        dropout_job = dday[dr] - self.d0  # index into the dropout block of jobs
        ok = ~j["failed"][dropout_job]
        dr, dropout_job = dr[ok], dropout_job[ok]
        t_dr = j["finished"][dropout_job] - MINUTE
        still_draft = a["draft"][dr] | (a["sub"][dr] > t_dr)
        dr, dropout_job, t_dr = dr[still_draft], dropout_job[still_draft], t_dr[still_draft]
        np.add.at(j["scored"], dropout_job, 1)
        app = np.concatenate([el, sla_i, dr])
        uc = np.concatenate([np.full(len(el), ELIGIBILITY, dtype=object), np.full(len(sla_i), SLA_USE_CASE, dtype=object),
                             np.full(len(dr), DROPOUT_USE_CASE, dtype=object)])
        at = np.concatenate([t_el, t_sla, t_dr])
        model = np.concatenate([self.model_for(ELIGIBILITY, t_el), self.model_for(SLA_USE_CASE, t_sla),
                                self.model_for(DROPOUT_USE_CASE, t_dr)])
        escore = np.concatenate([score, np.full(len(sla_i) + len(dr), np.nan)])
        conf = np.concatenate([np.clip(np.round(rules.confidence(score) + rng.normal(0, 0.04, len(el)), 4), 0, 1),
                               np.round(rng.uniform(0.5, 0.95, len(sla_i) + len(dr)), 4)])
        label = np.concatenate([rules.eligibility_label(score), np.where(breach, "breach", "on_time"),
                                np.where(rng.random(len(dr)) < np.where(a["draft"][dr], 0.7, 0.3), "likely_abandon", "likely_submit")]).astype(object)
        job = np.concatenate([np.full(len(el) + len(sla_i), -1), dropout_job])
        m = len(app)
        by = np.where(job < 0, "model-serving", "batch-scoring").astype(object)
        self.world.put("aiml", "predictions", frame(
            prediction_id=new_uuid_bytes(rng, m), model_id=self.model_ids[model], use_case_code=uc,
            batch_prediction_job_id=nullify(uuid_col(j["ids"][np.maximum(job, 0)]), job < 0),
            application_id=a["ids"][app], citizen_id=self.cit_ids[a["cit"][app]], scheme_id=self.sch_ids[a["sch"][app]],
            eligibility_score=escore, confidence_score=conf, predicted_label=label,
            status=np.full(m, "active", dtype=object), created_by=by, updated_by=by,
            predicted_at=ts_col(at), created_at=ts_col(at), updated_at=ts_col(at),
        ))

    def ml_operations(self) -> None:
        """Pipeline runs, daily model monitoring and the analytics cache."""
        rng = self.rng("pipeline_runs")
        days = self.period_days()
        pipes = [("feature_refresh", "feature", None, 1), ("eligibility_scoring_monitor", "evaluation", ELIGIBILITY, 3),
                 ("nightly_batch_scoring", "scoring", DROPOUT_USE_CASE, 2)]
        rows = []
        for d in days:
            for name, typ, uc, h in pipes:
                rows.append((name, typ, uc, ist_day_start(d) + h * HOUR))
            if (d + 3) % 7 == 6:  # Sunday retraining
                rows.append(("weekly_retraining", "training", ELIGIBILITY, ist_day_start(d) + 4 * HOUR))
        n = len(rows)
        st = np.array([r[3] for r in rows]) + rng.integers(0, 300, n) * US
        fin = st + rng.integers(3, 90, n) * MINUTE
        failed = rng.random(n) < 0.04
        ucs = [r[2] for r in rows]
        self.world.put_whole("aiml", "pipeline_runs", frame(
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
        at = ist_day_start(day + 1) + 3 * HOUR
        self.world.put_whole("aiml", "model_monitoring", frame(
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
        self.world.put_whole("aiml", "analytics_cache", frame(
            analytics_cache_id=new_uuid_bytes(cr, k), cache_key=pl.Series(keys),
            use_case_code=pl.Series([None] * 30 + ["APPLICATION_VOLUME_FORECAST", "DISTRICT_DEMAND_FORECAST",
                                                   "BUDGET_UTILISATION_FORECAST", "CAPACITY_FORECAST"], dtype=pl.String),
            payload=pl.Series([jdump({"value": round(float(v), 4)}) for v in cr.uniform(0.3, 0.9, k)]),
            computed_at=ts_col(comp), expires_at=ts_col(comp + 24 * HOUR),
            status=const("active", k), created_at=ts_col(comp), updated_at=ts_col(comp),
            created_by=const("analytics-job", k), updated_by=const("analytics-job", k),
        ))

