-- smart_warehouse: smart_etl_writer owns every table of schemas public and staging (so it
-- can load, upsert, delete a day and ANALYZE what it wrote) except the migration ledger;
-- smart_analyst reads the star schema and the load's bookkeeping and writes nothing;
-- nobody else may connect or create anything. Re-run after every migration
-- (`smart-warehouse db up --roles`): new tables change owner and grants then.
-- Whoever applies migrations afterwards must be a superuser or a member of smart_etl_writer.

DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC, smart_etl_writer, smart_analyst',
                   current_database());
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO smart_etl_writer', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO smart_analyst', current_database());
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA staging FROM PUBLIC;
-- CREATE: a load that replaces a whole table builds its indexes again after the rows
-- (deferred_indexes.py), and PostgreSQL asks CREATE on the schema of a new index.
GRANT USAGE, CREATE ON SCHEMA public, staging TO smart_etl_writer;
GRANT USAGE ON SCHEMA public TO smart_analyst;
REVOKE ALL ON SCHEMA staging FROM smart_analyst;

-- Tables (their identity sequences follow) and free-standing sequences change owner.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS rel, c.relkind
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'staging')
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND c.oid <> 'public.schema_migrations'::regclass
          AND c.relowner <> 'smart_etl_writer'::regrole
          AND NOT (c.relkind = 'S' AND EXISTS (
              SELECT FROM pg_catalog.pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
        ORDER BY 1
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO smart_etl_writer',
                       CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                      WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                       r.rel);
    END LOOP;
END
$$;
REVOKE ALL ON public.schema_migrations FROM smart_etl_writer, smart_analyst;

-- The analyst: SELECT on the dimensions, facts and aggregates, and on etl_batches and
-- etl_data_quality (when each day was loaded and what the checks found); nothing in
-- staging (the quarantine keeps source rows), no watermarks, no ledger, no sequences.
REVOKE ALL ON ALL TABLES IN SCHEMA public, staging FROM smart_analyst;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public, staging FROM smart_analyst;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS rel
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
          AND (c.relname ~ '^(dim|fact|agg)_' OR c.relname IN ('etl_batches', 'etl_data_quality'))
        ORDER BY 1
    LOOP
        EXECUTE format('GRANT SELECT ON %s TO smart_analyst', r.rel);
    END LOOP;
END
$$;
