-- The queue between the layers of a row-level merge (smart_warehouse_assets/merge.py).
-- A change-driven run merges the changed rows of a source into staging by key and queues
-- those keys for the fact; the fact merges them and queues the days they left or entered
-- for the aggregate. Each consumer takes its items in the same transaction that merges
-- them, so a failure leaves them queued for the next run, and a re-run finds nothing left.

CREATE TABLE staging.pending_merge (
    asset_key text        NOT NULL,
    merge_key text        NOT NULL,
    batch_id  bigint      NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (asset_key, merge_key)
);

COMMENT ON TABLE staging.pending_merge IS 'Keys a change-driven run queued for a downstream asset to merge (a fact''s natural keys, an aggregate''s days); the consumer removes them in the transaction that merges them. Grain: asset x key. Not for analysts.';
COMMENT ON COLUMN staging.pending_merge.asset_key IS 'The asset that is to merge the key (Dagster asset key, e.g. fact_service_applications).';
COMMENT ON COLUMN staging.pending_merge.merge_key IS 'The value of that asset''s merge column, as text (an application_id, a YYYYMMDD date key).';
COMMENT ON COLUMN staging.pending_merge.batch_id IS 'etl_batches row of the load that queued it (last one when queued twice).';
COMMENT ON COLUMN staging.pending_merge.queued_at IS 'When it was queued (warehouse clock).';
