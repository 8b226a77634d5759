-- Working days: dim_date says which days are national working days and numbers them;
-- dim_holiday names every holiday with the state that observes it, so a state's working
-- days are dim_date's minus that state's own holidays; and the applications fact measures
-- its decision time in the applicant's state's working days beside the calendar days.
ALTER TABLE public.dim_date
    ADD COLUMN is_working_day boolean NOT NULL DEFAULT false,
    ADD COLUMN working_day_number integer NOT NULL DEFAULT 0;
ALTER TABLE public.dim_date ALTER COLUMN is_working_day DROP DEFAULT, ALTER COLUMN working_day_number DROP DEFAULT;

COMMENT ON COLUMN public.dim_date.is_working_day IS 'True on a weekday that is no national holiday (is_holiday); a state holiday (dim_holiday) is a working day here. False for the unknown member.';
COMMENT ON COLUMN public.dim_date.working_day_number IS 'National working days from 2020-01-01 up to and including this day: the working days after day a up to and including day b are b.working_day_number - a.working_day_number. 0 for the unknown member.';
COMMENT ON COLUMN public.dim_date.is_holiday IS 'True on a national holiday: 26 January, 15 August, 2 October, or one configured as national (CalendarSettings; state holidays are in dim_holiday).';

CREATE TABLE public.dim_holiday (
    date_key     integer NOT NULL,
    full_date    date    NOT NULL,
    state        text,
    holiday_name text    NOT NULL,
    is_national  boolean NOT NULL,
    etl_batch_id bigint  NOT NULL REFERENCES public.etl_batches (batch_id),
    CHECK (is_national = (state IS NULL))
);
CREATE UNIQUE INDEX dim_holiday_day_state_uq ON public.dim_holiday (date_key, state) NULLS NOT DISTINCT;
CREATE INDEX dim_holiday_state_idx ON public.dim_holiday (state, full_date);
CREATE INDEX dim_holiday_batch_idx ON public.dim_holiday (etl_batch_id);

COMMENT ON TABLE public.dim_holiday IS 'Holidays by the state observing them, from the holidays file and config (CalendarSettings). Grain: one row per holiday day and state (state null: a national holiday, also in dim_date.is_holiday). A day is a working day in state S when dim_date.is_working_day and dim_holiday has no row for that day and S.';
COMMENT ON COLUMN public.dim_holiday.date_key IS 'The holiday as YYYYMMDD; joins dim_date.date_key.';
COMMENT ON COLUMN public.dim_holiday.full_date IS 'The holiday''s date.';
COMMENT ON COLUMN public.dim_holiday.state IS 'The state observing it, spelled as dim_citizen.state; null for a national holiday.';
COMMENT ON COLUMN public.dim_holiday.holiday_name IS 'Name of the holiday.';
COMMENT ON COLUMN public.dim_holiday.is_national IS 'True when observed in every state (state is null).';
COMMENT ON COLUMN public.dim_holiday.etl_batch_id IS 'Batch (etl_batches) that wrote the row.';

ALTER TABLE public.fact_service_applications ADD COLUMN processing_working_days integer;
COMMENT ON COLUMN public.fact_service_applications.processing_working_days IS 'Working days from the IST day after submission up to and including the IST day of the decision, in the applicant''s state (dim_citizen.state at submission): weekdays that are neither a national holiday nor one of that state''s holidays (dim_holiday). An extra measure: sla_met stays on calendar processing_days. Null while undecided.';
