-- The two largest facts drop their single-column indexes on dimension keys. Star queries
-- reach them through hash joins on the dimensions, never one key at a time, while every
-- index costs each partition load: measured on 214,511 processing actions, inserting into
-- the table with these three indexes took 9.7-13.9 s, without them 6.2-8.8 s.
-- Kept: the partition date key (the loads delete by it), the natural keys, the
-- application_id join to fact_service_applications, and etl_batch_id (a foreign key).
DROP INDEX public.fact_application_processing_department_idx;
DROP INDEX public.fact_application_processing_scheme_idx;
DROP INDEX public.fact_application_processing_acting_idx;
DROP INDEX public.fact_eligibility_scoring_citizen_idx;
DROP INDEX public.fact_eligibility_scoring_scheme_idx;
DROP INDEX public.fact_eligibility_scoring_department_idx;
