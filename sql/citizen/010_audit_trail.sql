-- The audit trail, kept by the database itself (issue 16): on every table of the portal,
--  * a row trigger keeps updated_at / updated_by honest: an UPDATE that does not stamp
--    updated_at (a "silent" change, which polling on updated_at would never see) gets the
--    transaction's clock and the acting role (the setting smart.actor, else the session user);
--  * statement triggers write audit_log for every inserted, updated and deleted row, set-based
--    from the statement's transition tables: the columns that changed, old and new, with
--    personal values (names, contacts, identity, address, date of birth, remarks, a payment's
--    bank reference) replaced by "redacted". The audit log stays in the portal: no publication and no grant reaches it.
-- The audit row's id is derived from its content, so replaying the same change (a simulator
-- run repeated from the same state) writes the same trail. The bulk seed loads with the
-- user triggers disabled inside its own transaction (synthetic/loading.py).

CREATE FUNCTION public.audit_values(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_object_agg(k, CASE WHEN k IN ('full_name', 'email', 'phone', 'id_number_hash', 'date_of_birth',
                                              'address_line', 'pincode', 'remarks', 'transaction_ref')
                                    THEN to_jsonb('redacted'::text) ELSE a -> k END)
    FROM jsonb_object_keys(a) AS k
    WHERE k NOT IN ('created_at', 'created_by', 'updated_at', 'updated_by')
      AND (b IS NULL OR (a -> k) IS DISTINCT FROM (b -> k))
$$;
COMMENT ON FUNCTION public.audit_values(jsonb, jsonb) IS 'The columns of row a that differ from row b (all of a when b is null), bookkeeping columns left out, personal values redacted.';

CREATE FUNCTION public.stamp_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at AND NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
        NEW.updated_by := coalesce(nullif(current_setting('smart.actor', true), ''), session_user);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.stamp_change() IS 'Stamps updated_at/updated_by on an UPDATE that changed the row without stamping them.';

CREATE FUNCTION public.audit_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pk constant text := TG_ARGV[0];
    actor constant text := coalesce(nullif(current_setting('smart.actor', true), ''), session_user);
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format($q$
            INSERT INTO public.audit_log (audit_id, entity_table, entity_id, action, actor, changed_at,
                                          old_values, new_values, created_at, updated_at, created_by, updated_by)
            SELECT md5(concat_ws('|', %1$L, n.%2$I, 'insert', n.updated_at, v.new))::uuid, %1$L, n.%2$I, 'insert',
                   coalesce(n.updated_by, $1), n.updated_at, NULL, v.new, n.updated_at, n.updated_at,
                   coalesce(n.updated_by, $1), coalesce(n.updated_by, $1)
            FROM new_rows n CROSS JOIN LATERAL (SELECT public.audit_values(to_jsonb(n), NULL) AS new) v
            ON CONFLICT DO NOTHING $q$, TG_TABLE_NAME, pk) USING actor;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format($q$
            INSERT INTO public.audit_log (audit_id, entity_table, entity_id, action, actor, changed_at,
                                          old_values, new_values, created_at, updated_at, created_by, updated_by)
            SELECT md5(concat_ws('|', %1$L, n.%2$I, 'update', n.updated_at, v.old, v.new))::uuid, %1$L, n.%2$I,
                   'update', coalesce(n.updated_by, $1), n.updated_at, v.old, v.new, n.updated_at, n.updated_at,
                   coalesce(n.updated_by, $1), coalesce(n.updated_by, $1)
            FROM old_rows o JOIN new_rows n ON n.%2$I = o.%2$I
            CROSS JOIN LATERAL (SELECT public.audit_values(to_jsonb(o), to_jsonb(n)) AS old,
                                       public.audit_values(to_jsonb(n), to_jsonb(o)) AS new) v
            WHERE v.new IS NOT NULL
            ON CONFLICT DO NOTHING $q$, TG_TABLE_NAME, pk) USING actor;
    ELSE
        EXECUTE format($q$
            INSERT INTO public.audit_log (audit_id, entity_table, entity_id, action, actor, changed_at,
                                          old_values, new_values, created_at, updated_at, created_by, updated_by)
            SELECT md5(concat_ws('|', %1$L, o.%2$I, 'delete', clock_timestamp(), v.old))::uuid, %1$L, o.%2$I,
                   'delete', $1, clock_timestamp(), v.old, NULL, clock_timestamp(), clock_timestamp(), $1, $1
            FROM old_rows o CROSS JOIN LATERAL (SELECT public.audit_values(to_jsonb(o), NULL) AS old) v
            ON CONFLICT DO NOTHING $q$, TG_TABLE_NAME, pk) USING actor;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION public.audit_changes() IS 'Writes audit_log for every row of an INSERT, UPDATE or DELETE statement (argument: the primary key column).';

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname AS name, a.attname AS pk
        FROM pg_class c
        JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = 'public'
        JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
        WHERE c.relkind = 'r' AND c.relname NOT IN ('audit_log', 'schema_migrations')
          AND EXISTS (SELECT FROM pg_attribute u WHERE u.attrelid = c.oid AND u.attname = 'updated_at')
        ORDER BY 1
    LOOP
        EXECUTE format('CREATE TRIGGER stamp_change BEFORE UPDATE ON public.%I FOR EACH ROW '
                       'EXECUTE FUNCTION public.stamp_change()', t.name);
        EXECUTE format('CREATE TRIGGER audit_insert AFTER INSERT ON public.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION public.audit_changes(%L)', t.name, t.pk);
        EXECUTE format('CREATE TRIGGER audit_update AFTER UPDATE ON public.%I REFERENCING OLD TABLE AS old_rows '
                       'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.audit_changes(%L)', t.name, t.pk);
        EXECUTE format('CREATE TRIGGER audit_delete AFTER DELETE ON public.%I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION public.audit_changes(%L)', t.name, t.pk);
    END LOOP;
END
$$;
