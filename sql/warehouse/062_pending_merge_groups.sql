-- agg_daily_applications is fed the groups of the application rows a change-driven run merged,
-- not their whole submission days (aggregates/daily_applications.py): the queue's keys say so.
-- Keys queued before this migration (bare days) still recompute their whole day.

COMMENT ON TABLE staging.pending_merge IS 'Keys a change-driven run queued for a downstream asset to merge (a fact''s natural keys, an aggregate''s days or groups); the consumer removes them in the transaction that merges them. Grain: asset x key. Not for analysts.';
COMMENT ON COLUMN staging.pending_merge.merge_key IS 'The value of that asset''s merge column, as text (an application_id, a YYYYMMDD date key), or the group of an application row for agg_daily_applications (submitted_date_key|scheme_key|department_key|citizen_key).';
