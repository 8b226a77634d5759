-- The warehouse's three login roles, cluster-wide, created once and never with a password
-- (the operator sets one with ALTER ROLE ... PASSWORD, or uses certificates or peer auth).
-- Applied before every sql/roles/<database>.sql; safe to repeat and to run concurrently
-- from several databases. A role that exists with more power than designed is refused,
-- not silently changed.
--   smart_etl_reader  portals: reads the tables the warehouse extracts, writes the monitor
--   smart_etl_writer  warehouse: owns the tables the load writes
--   smart_analyst     warehouse: reads the star schema, writes nothing

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['smart_etl_reader', 'smart_etl_writer', 'smart_analyst'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
                               'NOREPLICATION NOBYPASSRLS', name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created a moment ago by a runner in another database
            END;
        END IF;
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = name
                   AND (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
            RAISE EXCEPTION 'role % exists with SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS; '
                            'remove those attributes before granting it the warehouse''s privileges', name;
        END IF;
    END LOOP;
END
$$;
