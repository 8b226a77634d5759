-- updated_at / updated_by kept honest by the database itself (issue 16): on every table of
-- the ML portal, an UPDATE that does not stamp updated_at (a "silent" change, which polling
-- on updated_at would never see) gets the transaction's clock and the acting role (the
-- setting smart.actor, else the session user). The ML portal has no audit log table; its
-- changes are captured by the warehouse's publication. The bulk seed loads with the user
-- triggers disabled inside its own transaction (synthetic/loading.py).

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

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname AS name
        FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = 'public'
        WHERE c.relkind = 'r' AND c.relname <> 'schema_migrations'
          AND EXISTS (SELECT FROM pg_attribute u WHERE u.attrelid = c.oid AND u.attname = 'updated_at')
        ORDER BY 1
    LOOP
        EXECUTE format('CREATE TRIGGER stamp_change BEFORE UPDATE ON public.%I FOR EACH ROW '
                       'EXECUTE FUNCTION public.stamp_change()', t.name);
    END LOOP;
END
$$;
