-- smart_monitor: smart_etl_reader writes the pipeline's health (operations/monitor_registration.py,
-- health.py, incidents.py):
-- registers the pipeline and its alert rules (upserts), adds a health check per run,
-- opens, updates and resolves incidents. SELECT is what RETURNING, ON CONFLICT ... WHERE
-- and SELECT ... FOR UPDATE need. Nothing is deleted; no other monitor table is touched.

GRANT SELECT, INSERT, UPDATE ON public.system_components TO smart_etl_reader;
GRANT SELECT, INSERT, UPDATE ON public.alert_rules TO smart_etl_reader;
GRANT SELECT, INSERT ON public.health_checks TO smart_etl_reader;
GRANT SELECT, INSERT, UPDATE ON public.alert_incidents TO smart_etl_reader;
