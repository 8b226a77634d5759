-- smart_monitor: smart_etl_reader writes the pipeline's health (operations/health.py):
-- registers the pipeline and its alert rules (upserts), adds a health check per run,
-- opens, updates and resolves incidents. SELECT is what RETURNING, ON CONFLICT ... WHERE
-- and SELECT ... FOR UPDATE need. Nothing is deleted; no other monitor table is touched.

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

GRANT SELECT, INSERT, UPDATE ON public.system_components TO smart_etl_reader;
GRANT SELECT, INSERT, UPDATE ON public.alert_rules TO smart_etl_reader;
GRANT SELECT, INSERT ON public.health_checks TO smart_etl_reader;
GRANT SELECT, INSERT, UPDATE ON public.alert_incidents TO smart_etl_reader;
