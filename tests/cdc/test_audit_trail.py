"""The portals' triggers: honest updated_at/updated_by, an audit row for every change, no
personal value in it; the bulk seed loads past them."""

from __future__ import annotations

import psycopg

from tests.warehouse.helpers import rows, scalar

NAME, EMAIL = "Audit Testperson", "audit.testperson@example.in"


def test_every_change_is_audited_and_a_silent_update_is_stamped(database_urls):
    citizen, dept, aiml = database_urls["citizen"], database_urls["dept"], database_urls["aiml"]
    with psycopg.connect(citizen) as conn:
        conn.execute("SET smart.actor = 'clerk-7'")
        cid = conn.execute(
            "INSERT INTO citizens (full_name, email, date_of_birth, gender, district, updated_by) "
            "VALUES (%s, %s, '1990-05-01', 'F', 'Pune', 'self-registration') RETURNING citizen_id",
            (NAME, EMAIL)).fetchone()[0]
        stamped = conn.execute("SELECT updated_at FROM citizens WHERE citizen_id = %s", (cid,)).fetchone()[0]
    with psycopg.connect(citizen) as conn:  # a later transaction: a later clock
        conn.execute("SET smart.actor = 'clerk-7'")
        # Silent: the row changes, its updated_at is not touched by the writer.
        conn.execute("UPDATE citizens SET district = 'Nagpur', email = 'new.address@example.in' "
                     "WHERE citizen_id = %s", (cid,))
        conn.execute("DELETE FROM citizens WHERE citizen_id = %s", (cid,))

    trail = rows(citizen, "SELECT action, actor, old_values, new_values, changed_at FROM audit_log "
                          "WHERE entity_id = %s ORDER BY changed_at, action", (cid,))
    assert [r[0] for r in trail] == ["insert", "update", "delete"]
    insert, update, delete = trail
    assert insert[1] == "self-registration" and insert[3]["district"] == "Pune"
    assert update[1] == "clerk-7" and update[4] > stamped
    assert update[2] == {"district": "Pune", "email": "redacted"}
    assert update[3] == {"district": "Nagpur", "email": "redacted"}
    assert delete[1] == "clerk-7" and delete[2]["district"] == "Nagpur"
    text = str(trail)
    assert NAME not in text and "example.in" not in text and "1990" not in text

    # The department portal audits into its own table; an ML row's silent update is stamped.
    with psycopg.connect(dept) as conn:
        dep = conn.execute("INSERT INTO departments (department_code, department_name, department_type) "
                           "VALUES ('AUD', 'Audit office', 'district_office') RETURNING department_id").fetchone()[0]
        conn.execute("UPDATE departments SET department_name = 'Audit bureau' WHERE department_id = %s", (dep,))
    assert [r[0] for r in rows(dept, "SELECT action FROM dept_audit_log WHERE entity_id = %s ORDER BY changed_at",
                               (dep,))] == ["insert", "update"]
    with psycopg.connect(aiml) as conn:
        model, at = conn.execute(
            "INSERT INTO ml_models (use_case_code, model_name, model_version) "
            "VALUES ('ELIGIBILITY_SCORING', 'm', '1') RETURNING model_id, updated_at").fetchone()
    with psycopg.connect(aiml) as conn:
        conn.execute("UPDATE ml_models SET model_version = '2' WHERE model_id = %s", (model,))
    assert scalar(aiml, "SELECT updated_at > %s FROM ml_models WHERE model_id = %s", (at, model)) is True


def test_a_writer_that_stamps_its_change_keeps_its_stamp(database_urls):
    citizen = database_urls["citizen"]
    with psycopg.connect(citizen) as conn:
        cid = conn.execute("INSERT INTO citizens (full_name, updated_at, updated_by) "
                           "VALUES ('X Y', '2026-01-01 10:00+00', 'a') RETURNING citizen_id").fetchone()[0]
        conn.execute("UPDATE citizens SET district = 'Pune', updated_at = '2026-01-02 10:00+00', updated_by = 'b' "
                     "WHERE citizen_id = %s", (cid,))
    assert rows(citizen, "SELECT updated_at::text, updated_by FROM citizens WHERE citizen_id = %s", (cid,)) == \
        [("2026-01-02 10:00:00+00", "b")]
    assert scalar(citizen, "SELECT max(changed_at)::text FROM audit_log WHERE entity_id = %s", (cid,)) == \
        "2026-01-02 10:00:00+00"


def test_the_bulk_seed_loads_past_the_triggers(seeded_template):
    urls, manifest = seeded_template
    assert scalar(urls["citizen"], "SELECT count(*) FROM audit_log") == manifest["rows"]["citizen.audit_log"]
    assert scalar(urls["dept"], "SELECT count(*) FROM dept_audit_log") == manifest["rows"]["dept.dept_audit_log"]
    for db in ("citizen", "dept", "aiml"):
        assert scalar(urls[db], "SELECT count(*) FROM pg_trigger WHERE tgname = 'stamp_change' AND tgenabled = 'O'") > 0
