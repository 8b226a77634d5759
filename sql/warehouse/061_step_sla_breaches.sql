-- The submission-day aggregate counts the workflow steps of its applications that took longer
-- than their approval-chain step allows (fact_application_processing.step_sla_met = false), so
-- a dashboard of breaches per scheme, department, state and district needs no join to the
-- processing fact. Like amount_disbursed it grows after submission: an action that lands on
-- an old application changes the row of the application's submission day.

ALTER TABLE public.agg_daily_applications ADD COLUMN step_sla_breaches integer NOT NULL DEFAULT 0;
-- Rows loaded before this migration: counted from the facts as they stand, by the aggregate's
-- own grain, so they hold what a reload of their day would write.
UPDATE public.agg_daily_applications a
SET step_sla_breaches = x.breaches
FROM (SELECT f.submitted_date_key, f.scheme_key, f.department_key, coalesce(c.state, 'Unknown') AS state,
             coalesce(c.district, 'Unknown') AS district, count(*) AS breaches
      FROM public.fact_service_applications f
      JOIN public.fact_application_processing p ON p.application_id = f.application_id AND NOT p.step_sla_met
      LEFT JOIN public.dim_citizen c ON c.citizen_key = f.citizen_key
      GROUP BY 1, 2, 3, 4, 5) x
WHERE (a.date_key, a.scheme_key, a.department_key, a.state, a.district)
    = (x.submitted_date_key, x.scheme_key, x.department_key, x.state, x.district);
ALTER TABLE public.agg_daily_applications ALTER COLUMN step_sla_breaches DROP DEFAULT;

COMMENT ON COLUMN public.agg_daily_applications.step_sla_breaches IS 'Workflow steps of the group''s applications that breached their SLA: rows of fact_application_processing, on any action day, whose step_sla_met is false (processing_minutes > step_sla_hours * 60); steps matching no chain step (step_sla_met null) and deleted actions do not count; 0 when none. Counts steps, not applications; grows as actions land.';
COMMENT ON TABLE public.agg_daily_applications IS 'Daily application volumes, outcomes and step-SLA breaches. Grain: one row per submission day x scheme x department x applicant state and district. Partitioned by submission day; equals a GROUP BY over fact_service_applications for that day, with the breached workflow steps of those applications from fact_application_processing.';
