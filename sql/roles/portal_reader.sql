-- Every portal database: smart_etl_reader starts from nothing but CONNECT and the schema's
-- USAGE; each sql/roles/<portal>.sql, applied right after this file in the same
-- transaction, grants the columns and tables that portal's reader needs, no more.

DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM smart_etl_reader', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO smart_etl_reader', current_database());
END
$$;

REVOKE ALL ON SCHEMA public FROM smart_etl_reader;
GRANT USAGE ON SCHEMA public TO smart_etl_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM smart_etl_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM smart_etl_reader;
