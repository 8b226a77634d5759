-- smart_cdc_reader: the change-capture consumer's role in the three source portals. It
-- reads the warehouse's logical replication slot through the SQL functions
-- (pg_logical_slot_peek_binary_changes, pg_replication_slot_advance), which need the
-- REPLICATION attribute and nothing else: decoding reads the WAL, not the tables, and the
-- publication (created by `smart-warehouse cdc setup` as the tables' owner) limits what it
-- sees to the columns the warehouse reads. No SELECT, no write, no other attribute.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'smart_cdc_reader') THEN
        BEGIN
            CREATE ROLE smart_cdc_reader LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created a moment ago by a runner in another database
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'smart_cdc_reader'
               AND (rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls OR NOT rolreplication)) THEN
        RAISE EXCEPTION 'role smart_cdc_reader exists with other attributes than LOGIN REPLICATION; '
                        'fix them before it reads the portals'' slots';
    END IF;
    -- Exact, like the reader's grants: everything revoked, then CONNECT (applied after the
    -- reader's file, so a second run leaves the database's privileges in the same order).
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM smart_cdc_reader', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO smart_cdc_reader', current_database());
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM smart_cdc_reader;
