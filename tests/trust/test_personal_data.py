"""No name, e-mail, phone, address line, identity number or date of birth (nor a payment's
bank reference, nor the users who wrote a row) reaches the warehouse: not its tables (staging and the quarantine's jsonb included), not Dagster's
event log, metadata or console output."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import psycopg
from psycopg import sql

from smart_warehouse_assets.definitions import build_definitions
from smart_warehouse_assets.jobs import run_load
from tests.conftest import TEST_START, quality_thresholds
from tests.trust.conftest import count

FIRST, LAST = TEST_START, TEST_START + timedelta(days=2)
TOKEN = "zqxpii"  # in every marked text value
PHONE = "+91-55501-2"  # phone numbers carry no token, so a prefix of their own
BIRTH = "1901-02-0"  # dates of birth 1901-02-01 .. 1901-02-06
PERSONAL_KEYS = {"full_name", "email", "phone", "id_number_hash", "address_line", "date_of_birth", "pincode",
                 "remarks", "features"}


def _mark_the_portals(urls: dict[str, str]) -> tuple[list[str], str]:
    """Recognisable personal values on citizens who applied in the loaded days; one of them
    (changed 'tomorrow') is quarantined. Free text and features elsewhere get the token too."""
    with psycopg.connect(urls["citizen"]) as conn:
        ids = [str(i) for (i,) in conn.execute("""
            SELECT citizen_id FROM service_applications
            WHERE submitted_at >= %s AND submitted_at < %s GROUP BY 1 ORDER BY 1 LIMIT 6""",
            (f"{FIRST} 00:00+05:30", f"{LAST + timedelta(days=1)} 00:00+05:30")).fetchall()]
        for n, cid in enumerate(ids, start=1):
            conn.execute(
                """UPDATE citizens SET full_name = %s, email = %s, phone = %s, id_number_hash = %s,
                   address_line = %s, date_of_birth = %s WHERE citizen_id = %s""",
                (f"Asha {TOKEN.title()} {n}", f"{TOKEN}.{n}@example.invalid", f"{PHONE}{n}987",
                 f"{TOKEN}hash{n}", f"{n} {TOKEN.title()} Marg, Pune", f"{BIRTH}{n}", cid))
        quarantined = ids[-1]
        conn.execute("UPDATE citizens SET updated_at = now() + interval '1 day' WHERE citizen_id = %s", (quarantined,))
        conn.execute("UPDATE service_applications SET remarks = %s WHERE citizen_id = ANY(%s::uuid[])",
                     (f"called {TOKEN} at home", ids))
        # A payment's bank reference and the users who wrote it stay in the portal; two payments
        # move into the loaded days so that their fact rows are loaded and scanned.
        conn.execute("""UPDATE payments SET transaction_ref = %s || payment_id, created_by = %s, updated_by = %s,
                        paid_at = %s WHERE payment_id IN (SELECT payment_id FROM payments ORDER BY 1 LIMIT 2)""",
                     (f"{TOKEN}-ref-", f"clerk {TOKEN}", f"clerk {TOKEN}", f"{FIRST + timedelta(days=1)} 12:00+05:30"))
    with psycopg.connect(urls["dept"]) as conn:
        conn.execute("UPDATE processing_actions SET remarks = %s WHERE action_id IN "
                     "(SELECT action_id FROM processing_actions ORDER BY action_at LIMIT 50)", (f"{TOKEN} said",))
        conn.execute("UPDATE departments SET email = %s, phone = %s", (f"{TOKEN}@dept.invalid", f"{PHONE}0000"))
        # Staff: the officers whose actions are loaded keep their names, e-mails, phones and
        # employee codes in the portal; only their designation reaches the warehouse.
        conn.execute("""UPDATE dept_users SET full_name = %s, email = %s || dept_user_id || '@dept.invalid',
                        phone = %s || row_n, employee_code = %s || row_n
                        FROM (SELECT dept_user_id AS id, row_number() OVER (ORDER BY dept_user_id) AS row_n
                              FROM dept_users) n WHERE n.id = dept_user_id""",
                     (f"Officer {TOKEN}", f"{TOKEN}.", PHONE, f"EMP-{TOKEN}-"))
        for table in ("designations", "application_assignments", "approval_chains"):
            conn.execute(sql.SQL("UPDATE {} SET created_by = %s, updated_by = %s").format(sql.Identifier(table)),
                         (f"admin {TOKEN}", f"admin {TOKEN}"))
    with psycopg.connect(urls["aiml"]) as conn:
        conn.execute("UPDATE predictions SET features = jsonb_build_object('note', %s::text)", (TOKEN,))
    return ids, quarantined


def _leaks_in_tables(url: str, min_tables: int = 15) -> dict[str, int]:
    """Rows of every table of public and staging whose text (every column, jsonb included) holds a marker."""
    found = {}
    patterns = [f"%{TOKEN}%", f"%{PHONE}%", f"%{BIRTH}%"]
    with psycopg.connect(url) as conn:
        tables = conn.execute("""SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE n.nspname IN ('public', 'staging') AND c.relkind IN ('r', 'v', 'm')""").fetchall()
        assert len(tables) >= min_tables
        for schema, table in tables:
            n = conn.execute(sql.SQL("SELECT count(*) FROM {}.{} t WHERE t::text ILIKE ANY(%s)").format(
                sql.Identifier(schema), sql.Identifier(table)), (patterns,)).fetchone()[0]
            if n:
                found[f"{schema}.{table}"] = n
    return found


def _markers_in(text: str) -> list[str]:
    lowered = text.lower()
    return [m for m in (TOKEN, PHONE, BIRTH) if m.lower() in lowered]


def test_personal_data_never_reaches_the_warehouse_nor_dagster(seeded, capfd):
    urls = seeded
    ids, quarantined = _mark_the_portals(urls)
    assert count(urls["citizen"], "SELECT count(*) FROM citizens WHERE email LIKE %s", (f"{TOKEN}%",)) == len(ids)

    with dg.DagsterInstance.ephemeral() as instance:
        result = run_load(build_definitions(urls, quality_thresholds()), FIRST, LAST, instance=instance,
                          raise_on_error=False)
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        stored = [dg.serialize_value(e) for e in instance.all_logs(result.run_id)]
        stored.append(dg.serialize_value(run))
        stored.append(dg.serialize_value(instance.get_job_snapshot(run.job_snapshot_id)))
    output = capfd.readouterr()

    # The marked citizens did flow through: their versions are there, with a birth year only.
    wh = urls["warehouse"]
    assert count(wh, "SELECT count(*) FROM dim_citizen WHERE citizen_id = ANY(%s::uuid[]) AND birth_year = 1901",
                 (ids[:-1],)) == len(ids) - 1
    assert count(wh, "SELECT count(*) FROM fact_service_applications f JOIN dim_citizen c USING (citizen_key) "
                     "WHERE c.citizen_id = ANY(%s::uuid[])", (ids,)) > 0
    # One went to the quarantine: its payload is the row without anything personal.
    with psycopg.connect(wh) as conn:
        reason, payload = conn.execute("SELECT reason, payload FROM staging.rejected_rows WHERE source_table = 'citizens' "
                                       "AND source_pk = %s", (quarantined,)).fetchone()
        keys = {k for (p,) in conn.execute("SELECT payload FROM staging.rejected_rows").fetchall() for k in p}
    assert reason == "timestamp in the future" and payload["birth_year"] == 1901
    assert not keys & PERSONAL_KEYS

    # The officers' posts did flow through, to the actions of the loaded days.
    assert count(wh, "SELECT count(*) FROM dim_designation WHERE designation_key <> -1") > 0
    assert count(wh, "SELECT count(*) FROM fact_application_processing WHERE designation_key <> -1") > 0

    assert _leaks_in_tables(wh) == {}
    # The scan itself finds what the portal holds (its audit trail records the marked values too).
    assert set(_leaks_in_tables(urls["citizen"], 9)) == {"public.citizens", "public.service_applications",
                                                         "public.payments"}  # the audit log redacts them
    assert count(wh, "SELECT count(*) FROM fact_payments WHERE paid_date_key = %s",
                 (int((FIRST + timedelta(days=1)).strftime("%Y%m%d")),)) >= 2
    assert {"public.dept_users", "public.designations"} <= set(_leaks_in_tables(urls["dept"], 11))
    assert [m for text in stored for m in _markers_in(text)] == []
    assert _markers_in(output.out + output.err) == []
