"""The monitoring portal's tables: the platform's components and their health.

Independent of the applications: components, health checks at a fixed interval (and the
alerts and incidents they raise), resource and endpoint metrics, logs and their hourly
counts, and the administrators with their logins. The monitored days are made in blocks of
whole days, alongside the applications of the same days.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from smart_warehouse_assets.synthetic import reference as ref
from smart_warehouse_assets.synthetic import rules
from smart_warehouse_assets.synthetic.core import (
    DAY, HOUR, IST_OFFSET, MINUTE, US, const, frame, ist_day_start, jdump, new_uuid_bytes, random_hex, ts_col,
)
from smart_warehouse_assets.synthetic.world import MONITOR_BLOCK


class MonitorTables:
    """Builder mixin (see ``world.Period``) for the tables of the monitoring portal."""

    def system_components(self) -> None:
        """The platform's components (left on ``self.comp_ids``)."""
        rng = self.rng("system_components")
        C = ref.COMPONENTS
        nc = len(C)
        cids = new_uuid_bytes(rng, nc)
        ccreated = np.full(nc, self.S - 500 * DAY)
        self.world.put_whole("monitor", "system_components", frame(
            component_id=cids, component_code=np.array([c[0] for c in C], dtype=object),
            component_name=np.array([c[1] for c in C], dtype=object), component_type=np.array([c[2] for c in C], dtype=object),
            data_centre=np.array([c[3] for c in C], dtype=object),
            host_name=pl.Series([f"{c[0].lower()}-01.{c[3]}.smart.internal" for c in C]),
            environment=const("production", nc), description=np.array([c[1] for c in C], dtype=object),
            status=const("active", nc), created_at=ts_col(ccreated), updated_at=ts_col(ccreated),
            created_by=const("platform-admin", nc), updated_by=const("platform-admin", nc),
        ))
        self.comp_ids = cids

    def alert_rules(self) -> None:
        """Two alert rules per component: down (critical) and slow (warning)."""
        C, cids = ref.COMPONENTS, self.comp_ids
        nc = len(C)
        ar = self.rng("alert_rules")
        rule_comp = np.arange(nc)
        nr = nc * 2
        rcomp = np.concatenate([rule_comp, rule_comp])
        rsev = np.concatenate([np.full(nc, "critical", dtype=object), np.full(nc, "warning", dtype=object)])
        self.rule_ids = rule_ids = new_uuid_bytes(ar, nr)
        self.world.put_whole("monitor", "alert_rules", frame(
            alert_rule_id=rule_ids, rule_code=pl.Series([f"{C[c][0]}-{'DOWN' if i < nc else 'SLOW'}" for i, c in enumerate(rcomp)]),
            rule_name=pl.Series([f"{C[c][1]} {'is down' if i < nc else 'responds slowly'}" for i, c in enumerate(rcomp)]),
            component_id=cids[rcomp], metric_name=np.where(np.arange(nr) < nc, "health_status", "response_ms").astype(object),
            severity=rsev, condition=np.where(np.arange(nr) < nc, "health_status = 'down'", "response_ms > 2000 for 5 min").astype(object),
            threshold=np.where(np.arange(nr) < nc, np.nan, 2000.0), status=const("active", nr),
            created_at=ts_col(np.full(nr, self.S - 400 * DAY)), updated_at=ts_col(np.full(nr, self.S - 400 * DAY)),
            created_by=const("platform-admin", nr), updated_by=const("platform-admin", nr),
        ))

    def plan_monitoring(self) -> None:
        """Monitored days go in blocks of whole days, about ``MONITORED_ROWS_PER_BLOCK`` health checks each."""
        checks_per_day = max(1, round(48 * self.scale)) * len(ref.COMPONENTS)
        self.monitor_days_per_block = max(1, self.MONITORED_ROWS_PER_BLOCK // checks_per_day)
        self.n_monitor_blocks = -(-self.days // self.monitor_days_per_block)
        self.monitor_done = 0
        self.log_carry = None

    def monitor_until(self, day: int) -> None:
        """The blocks of monitored days up to the one holding ``day`` (a day number)."""
        while self.monitor_done < self.n_monitor_blocks and self.monitor_done * self.monitor_days_per_block <= day - self.d0:
            self.monitor_block(self.monitor_done)
            self.monitor_done += 1

    def finish_monitoring(self) -> None:
        """The rest of the monitored days; then their tables are final."""
        self.monitor_until(self.d0 + self.days)
        for table in ("health_checks", "alert_incidents", "system_metrics", "performance_metrics", "system_logs",
                      "log_aggregations"):
            self.world.close("monitor", table)

    def monitor_block(self, b: int) -> None:
        """Health checks, incidents, resource and endpoint metrics and logs of a block of days."""
        first = b * self.monitor_days_per_block
        last = min(self.days, first + self.monitor_days_per_block)  # period day indexes first..last-1
        self.block_streams(MONITOR_BLOCK, b)
        self.health_and_alerts(first, last)
        self.resource_metrics(first, last)
        self.logs(first, last)

    def health_and_alerts(self, first: int, last: int) -> None:
        """Health checks at a fixed interval per component, and incidents from the bad checks."""
        C, cids = ref.COMPONENTS, self.comp_ids
        nc = len(C)
        hr = self.block("health_checks")
        per_day = max(1, round(48 * self.scale))
        step = DAY // per_day
        slots = np.arange(first * per_day, last * per_day)
        comp = np.repeat(np.arange(nc), len(slots))
        t = self.S + np.tile(slots, nc) * step + hr.integers(0, 30, len(comp)) * US
        m = len(comp)
        state = hr.choice(3, size=m, p=[0.975, 0.02, 0.005])
        is_db = np.array([c[2] == "database" for c in C])[comp]
        resp = np.where(state == 2, 0, np.clip(hr.lognormal(np.where(is_db, 2.3, 4.6), 0.5), 1, 30000)).astype(np.int32)
        resp = np.where(state == 1, resp * rules.DEGRADED_SLOWDOWN, resp)
        hstatus = np.array(["healthy", "degraded", "down"], dtype=object)[state]
        details = np.where(state == 2, jdump({"error": "connection refused"}),
                           np.where(state == 1, jdump({"warning": "slow response"}), None))
        self.world.put("monitor", "health_checks", frame(
            health_check_id=new_uuid_bytes(hr, m), component_id=cids[comp], status=hstatus, checked_at=ts_col(t),
            response_ms=pl.Series(resp), details=pl.Series(details.tolist(), dtype=pl.String),
            created_at=ts_col(t), updated_at=ts_col(t), created_by=const("prober", m), updated_by=const("prober", m),
        ))
        ir = self.block("alert_incidents")
        bad = np.flatnonzero((state == 2) | ((state == 1) & (ir.random(m) < 0.3)))
        ni = len(bad)
        opened = t[bad]
        resolved = opened + ir.integers(5, 180, ni) * MINUTE
        done = resolved < self.H
        istatus = np.where(done, "resolved", "acknowledged").astype(object)
        crit = state[bad] == 2
        self.world.put("monitor", "alert_incidents", frame(
            incident_id=new_uuid_bytes(ir, ni), alert_rule_id=self.rule_ids[np.where(crit, comp[bad], comp[bad] + nc)],
            component_id=cids[comp[bad]], severity=np.where(crit, "critical", "warning").astype(object),
            title=pl.Series([f"{C[c][0]} {'down' if k else 'degraded'}" for c, k in zip(comp[bad], crit)], dtype=pl.String),
            incident_status=istatus, opened_at=ts_col(opened), acknowledged_at=ts_col(opened + 4 * MINUTE),
            resolved_at=ts_col(resolved, ~done),
            details=pl.Series([jdump({"response_ms": int(r)}) for r in resp[bad]], dtype=pl.String),
            status=const("active", ni), created_at=ts_col(opened), updated_at=ts_col(np.where(done, resolved, opened + 4 * MINUTE)),
            created_by=const("alertmanager", ni), updated_by=const("alertmanager", ni),
        ))

    def resource_metrics(self, first: int, last: int) -> None:
        """Hourly CPU and memory per component (at scale 1) and endpoint performance per window."""
        C, cids = ref.COMPONENTS, self.comp_ids
        nc = len(C)
        sr = self.block("system_metrics")
        per_day = max(1, round(24 * self.scale))
        slots = np.arange(first * per_day, last * per_day)
        names = np.array(["cpu_percent", "memory_percent"], dtype=object)
        comp = np.repeat(np.arange(nc), len(slots) * 2)
        nm = np.tile(np.repeat(np.arange(2), len(slots)), nc)
        t = self.S + np.tile(np.tile(slots, 2), nc) * (DAY // per_day)
        m = len(comp)
        hour = ((t + IST_OFFSET) % DAY) / HOUR
        load = 1 + 0.8 * np.exp(-((hour - 13) ** 2) / 18)
        val = np.where(nm == 0, np.clip(sr.normal(22, 6, m) * load, 1, 100), np.clip(sr.normal(55, 8, m), 5, 99))
        self.world.put("monitor", "system_metrics", frame(
            system_metric_id=new_uuid_bytes(sr, m), component_id=cids[comp], metric_name=names[nm], metric_value=np.round(val, 2),
            unit=const("percent", m), recorded_at=ts_col(t), status=const("active", m),
            created_at=ts_col(t), updated_at=ts_col(t), created_by=const("collector", m), updated_by=const("collector", m),
        ))
        # Endpoint performance per window.
        pr = self.block("performance_metrics")
        eps = [(list(C).index(next(c for c in C if c[0] == code)), e) for code, es in ref.ENDPOINTS_BY_COMPONENT.items() for e in es]
        ep = np.repeat(np.arange(len(eps)), len(slots))
        ws = self.S + np.tile(slots, len(eps)) * (DAY // per_day)
        m = len(ep)
        hour = ((ws + IST_OFFSET) % DAY) / HOUR
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

    def logs(self, first: int, last: int) -> None:
        """System logs and their hourly counts per component and level.

        An hour counted is a UTC hour, which the IST midnight that ends a block cuts in two:
        its counts so far wait for the next block (``log_carry``)."""
        cids = self.comp_ids
        nc = len(cids)
        lr = self.block("system_logs")
        nl = max(1, round(300 * self.scale)) * (last - first)
        comp = lr.integers(0, nc, nl)
        lvl = lr.choice(4, size=nl, p=[0.7, 0.2, 0.08, 0.02])
        levels = np.array(["info", "warning", "error", "critical"], dtype=object)
        start, end = self.S + first * DAY, self.S + last * DAY
        t = start + (lr.random(nl) * (end - start)).astype(np.int64)
        msgs = [ref.LOG_MESSAGES[levels[v]][int(r * len(ref.LOG_MESSAGES[levels[v]]))] for v, r in zip(lvl, lr.random(nl))]
        self.world.put("monitor", "system_logs", frame(
            system_log_id=new_uuid_bytes(lr, nl), component_id=cids[comp], log_level=levels[lvl], message=pl.Series(msgs),
            logged_at=ts_col(t), trace_id=random_hex(lr, nl, 16), context=const(None, nl).cast(pl.String),
            status=const("active", nl), created_at=ts_col(t), updated_at=ts_col(t),
            created_by=const("log-shipper", nl), updated_by=const("log-shipper", nl),
        ))
        hour_start = (t // HOUR) * HOUR
        agg = pl.DataFrame({"comp": comp, "lvl": lvl, "w": hour_start}).group_by(["comp", "w", "lvl"]).len()
        if self.log_carry is not None:
            agg = pl.concat([self.log_carry, agg]).group_by(["comp", "w", "lvl"]).agg(pl.col("len").sum())
        agg = agg.sort(["comp", "w", "lvl"])
        final = last == self.days
        self.log_carry = None if final else agg.filter(pl.col("w") + HOUR > end)
        if not final:
            agg = agg.filter(pl.col("w") + HOUR <= end)
        ga = self.block("log_aggregations")
        k = agg.height
        w = agg["w"].to_numpy()
        self.world.put("monitor", "log_aggregations", frame(
            log_aggregation_id=new_uuid_bytes(ga, k), component_id=cids[agg["comp"].to_numpy()], window_start=ts_col(w),
            window_end=ts_col(w + HOUR), log_level=levels[agg["lvl"].to_numpy()], log_count=agg["len"].cast(pl.Int32),
            status=const("active", k), created_at=ts_col(w + HOUR), updated_at=ts_col(w + HOUR),
            created_by=const("log-aggregator", k), updated_by=const("log-aggregator", k),
        ))

    def admins(self) -> None:
        """The platform's administrators and their audit trail (logins on working days)."""
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
                        logins.append((i, ist_day_start(d) + int(au.integers(9 * 60, 19 * 60)) * MINUTE))
        last_login = np.full(na, acreated[0])
        for i, tt in logins:
            last_login[i] = max(last_login[i], tt)
        uname = [f"{rules.name_handle(f, l)}{i}" for i, (f, l) in enumerate(zip(first, last))]
        self.world.put_whole("monitor", "admin_users", frame(
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
        self.world.put_whole("monitor", "monitor_audit_log", frame(
            monitor_audit_id=new_uuid_bytes(ml, k), admin_user_id=aids[li], entity_table=const("admin_users", k),
            entity_id=aids[li], action=const("login", k), changed_at=ts_col(lt),
            old_values=const(None, k).cast(pl.String), new_values=const(None, k).cast(pl.String),
            status=const("active", k), created_at=ts_col(lt), updated_at=ts_col(lt),
            created_by=pl.Series(uname).gather(li), updated_by=pl.Series(uname).gather(li),
        ))

