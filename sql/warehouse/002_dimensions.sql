-- Conformed dimensions. dim_date is a calendar; the other three are SCD Type 2:
-- half-open [valid_from, valid_to) intervals, one open (current) row per natural key.
-- Key -1 in each is the "unknown" member that facts point to when a member cannot be
-- resolved; it is created here, never by a load, so it carries no etl_batch_id.

CREATE TABLE public.dim_date (
    date_key       integer PRIMARY KEY,
    full_date      date UNIQUE,
    day_of_week    smallint    NOT NULL CHECK (day_of_week BETWEEN 0 AND 7),
    day_name       text        NOT NULL,
    day_of_month   smallint    NOT NULL,
    day_of_year    smallint    NOT NULL,
    week_of_year   smallint    NOT NULL,
    month          smallint    NOT NULL,
    month_name     text        NOT NULL,
    quarter        smallint    NOT NULL,
    year           smallint    NOT NULL,
    fiscal_year    smallint    NOT NULL,
    fiscal_quarter smallint    NOT NULL,
    is_weekend     boolean     NOT NULL,
    is_holiday     boolean     NOT NULL,
    holiday_name   text,
    etl_batch_id   bigint REFERENCES public.etl_batches (batch_id),
    CHECK ((date_key = -1) = (full_date IS NULL)),
    CHECK (date_key = -1 OR etl_batch_id IS NOT NULL)
);
CREATE INDEX dim_date_batch_idx ON public.dim_date (etl_batch_id);
CREATE INDEX dim_date_fiscal_idx ON public.dim_date (fiscal_year, fiscal_quarter);

INSERT INTO public.dim_date (date_key, full_date, day_of_week, day_name, day_of_month, day_of_year,
                             week_of_year, month, month_name, quarter, year, fiscal_year,
                             fiscal_quarter, is_weekend, is_holiday, holiday_name)
VALUES (-1, NULL, 0, 'Unknown', 0, 0, 0, 0, 'Unknown', 0, 0, 0, 0, false, false, NULL);

COMMENT ON TABLE public.dim_date IS 'Calendar dimension. Grain: one row per calendar day (plus -1, the unknown or not-yet-happened date).';
COMMENT ON COLUMN public.dim_date.date_key IS 'Day as the integer YYYYMMDD; -1 for an unknown date or one that has not happened (e.g. an undecided application).';
COMMENT ON COLUMN public.dim_date.full_date IS 'The calendar date; null only for the unknown member.';
COMMENT ON COLUMN public.dim_date.day_of_week IS 'ISO day of week: 1 = Monday ... 7 = Sunday (0 for the unknown member).';
COMMENT ON COLUMN public.dim_date.day_name IS 'English day name, e.g. Monday.';
COMMENT ON COLUMN public.dim_date.day_of_month IS 'Day of the month, 1-31.';
COMMENT ON COLUMN public.dim_date.day_of_year IS 'Day of the calendar year, 1-366.';
COMMENT ON COLUMN public.dim_date.week_of_year IS 'ISO week number, 1-53.';
COMMENT ON COLUMN public.dim_date.month IS 'Calendar month, 1-12.';
COMMENT ON COLUMN public.dim_date.month_name IS 'English month name, e.g. April.';
COMMENT ON COLUMN public.dim_date.quarter IS 'Calendar quarter, 1-4.';
COMMENT ON COLUMN public.dim_date.year IS 'Calendar year.';
COMMENT ON COLUMN public.dim_date.fiscal_year IS 'Indian fiscal year (April to March), named by its starting calendar year: 1 April 2026 is in 2026, 31 March 2027 too.';
COMMENT ON COLUMN public.dim_date.fiscal_quarter IS 'Fiscal quarter, 1 = April-June ... 4 = January-March.';
COMMENT ON COLUMN public.dim_date.is_weekend IS 'True on Saturday and Sunday.';
COMMENT ON COLUMN public.dim_date.is_holiday IS 'True on a national holiday (26 January, 15 August, 2 October) or a configured holiday.';
COMMENT ON COLUMN public.dim_date.holiday_name IS 'Name of the holiday, null on other days.';
COMMENT ON COLUMN public.dim_date.etl_batch_id IS 'Batch (etl_batches) that wrote the row; null for the unknown member.';

CREATE TABLE public.dim_citizen (
    citizen_key  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    citizen_id   uuid,
    gender       text        NOT NULL,
    birth_year   smallint,
    age_band     text        NOT NULL,
    city         text,
    district     text,
    state        text,
    status       text        NOT NULL,
    valid_from   timestamptz NOT NULL,
    valid_to     timestamptz NOT NULL DEFAULT '9999-12-31 00:00:00+00',
    is_current   boolean     NOT NULL DEFAULT true,
    etl_batch_id bigint REFERENCES public.etl_batches (batch_id),
    CHECK (valid_to > valid_from),
    CHECK ((citizen_key = -1) = (citizen_id IS NULL)),
    CHECK (citizen_key = -1 OR etl_batch_id IS NOT NULL)
);
CREATE UNIQUE INDEX dim_citizen_version_uq ON public.dim_citizen (citizen_id, valid_from) INCLUDE (valid_to);
CREATE UNIQUE INDEX dim_citizen_current_uq ON public.dim_citizen (citizen_id) WHERE is_current;
CREATE INDEX dim_citizen_batch_idx ON public.dim_citizen (etl_batch_id);
CREATE INDEX dim_citizen_district_idx ON public.dim_citizen (state, district);

INSERT INTO public.dim_citizen (citizen_key, citizen_id, gender, birth_year, age_band, city, district,
                                state, status, valid_from, valid_to, is_current)
OVERRIDING SYSTEM VALUE
VALUES (-1, NULL, 'unknown', NULL, 'unknown', 'Unknown', 'Unknown', 'Unknown', 'unknown',
        '1900-01-01 00:00:00+00', '9999-12-31 00:00:00+00', true);

COMMENT ON TABLE public.dim_citizen IS 'Citizens who apply for schemes, without personal data (no name, contact, identity number or date of birth). SCD Type 2. Grain: one row per citizen version.';
COMMENT ON COLUMN public.dim_citizen.citizen_key IS 'Surrogate key of the citizen version; -1 is the unknown citizen.';
COMMENT ON COLUMN public.dim_citizen.citizen_id IS 'Natural key: citizens.citizen_id in smart_citizen.';
COMMENT ON COLUMN public.dim_citizen.gender IS 'Gender in one vocabulary: male, female, other or unknown (portal codes such as M/F are mapped).';
COMMENT ON COLUMN public.dim_citizen.birth_year IS 'Year of birth (the full date of birth is personal data and stays in the portal).';
COMMENT ON COLUMN public.dim_citizen.age_band IS 'Age band at the start of the version: 18-25, 26-35, 36-45, 46-60, 61+ or unknown.';
COMMENT ON COLUMN public.dim_citizen.city IS 'City of residence, trimmed.';
COMMENT ON COLUMN public.dim_citizen.district IS 'District of residence, trimmed and spelled one way.';
COMMENT ON COLUMN public.dim_citizen.state IS 'State of residence.';
COMMENT ON COLUMN public.dim_citizen.status IS 'Portal account status: active, inactive or deleted (soft delete).';
COMMENT ON COLUMN public.dim_citizen.valid_from IS 'Start of the version (inclusive): the source row''s created_at for the first version, its updated_at for later ones.';
COMMENT ON COLUMN public.dim_citizen.valid_to IS 'End of the version (exclusive); 9999-12-31 00:00:00+00 while current.';
COMMENT ON COLUMN public.dim_citizen.is_current IS 'True for the open version; exactly one per citizen.';
COMMENT ON COLUMN public.dim_citizen.etl_batch_id IS 'Batch (etl_batches) that wrote the version; null for the unknown member.';

CREATE TABLE public.dim_scheme (
    scheme_key      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scheme_id       uuid,
    scheme_code     text        NOT NULL,
    scheme_name     text        NOT NULL,
    category        text        NOT NULL,
    department_code text,
    benefit_amount  numeric(12, 2),
    sla_days        integer,
    status          text        NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz NOT NULL DEFAULT '9999-12-31 00:00:00+00',
    is_current      boolean     NOT NULL DEFAULT true,
    etl_batch_id    bigint REFERENCES public.etl_batches (batch_id),
    CHECK (valid_to > valid_from),
    CHECK ((scheme_key = -1) = (scheme_id IS NULL)),
    CHECK (scheme_key = -1 OR etl_batch_id IS NOT NULL)
);
CREATE UNIQUE INDEX dim_scheme_version_uq ON public.dim_scheme (scheme_id, valid_from) INCLUDE (valid_to);
CREATE UNIQUE INDEX dim_scheme_current_uq ON public.dim_scheme (scheme_id) WHERE is_current;
CREATE INDEX dim_scheme_batch_idx ON public.dim_scheme (etl_batch_id);
CREATE INDEX dim_scheme_code_idx ON public.dim_scheme (scheme_code);
CREATE INDEX dim_scheme_department_idx ON public.dim_scheme (department_code);

INSERT INTO public.dim_scheme (scheme_key, scheme_id, scheme_code, scheme_name, category, department_code,
                               benefit_amount, sla_days, status, valid_from, valid_to, is_current)
OVERRIDING SYSTEM VALUE
VALUES (-1, NULL, 'UNKNOWN', 'Unknown scheme', 'unknown', NULL, NULL, NULL, 'unknown',
        '1900-01-01 00:00:00+00', '9999-12-31 00:00:00+00', true);

COMMENT ON TABLE public.dim_scheme IS 'Government schemes citizens apply for. SCD Type 2. Grain: one row per scheme version.';
COMMENT ON COLUMN public.dim_scheme.scheme_key IS 'Surrogate key of the scheme version; -1 is the unknown scheme.';
COMMENT ON COLUMN public.dim_scheme.scheme_id IS 'Natural key: schemes.scheme_id in smart_citizen.';
COMMENT ON COLUMN public.dim_scheme.scheme_code IS 'Business code of the scheme, unique in the portal.';
COMMENT ON COLUMN public.dim_scheme.scheme_name IS 'Name of the scheme.';
COMMENT ON COLUMN public.dim_scheme.category IS 'Category, e.g. agriculture, education, health.';
COMMENT ON COLUMN public.dim_scheme.department_code IS 'Code of the department that owns the scheme; it decides a fact''s department_key.';
COMMENT ON COLUMN public.dim_scheme.benefit_amount IS 'Benefit paid per approved application, in rupees.';
COMMENT ON COLUMN public.dim_scheme.sla_days IS 'Days within which an application must be decided.';
COMMENT ON COLUMN public.dim_scheme.status IS 'Scheme status: active, inactive or closed.';
COMMENT ON COLUMN public.dim_scheme.valid_from IS 'Start of the version (inclusive).';
COMMENT ON COLUMN public.dim_scheme.valid_to IS 'End of the version (exclusive); 9999-12-31 00:00:00+00 while current.';
COMMENT ON COLUMN public.dim_scheme.is_current IS 'True for the open version; exactly one per scheme.';
COMMENT ON COLUMN public.dim_scheme.etl_batch_id IS 'Batch (etl_batches) that wrote the version; null for the unknown member.';

CREATE TABLE public.dim_department (
    department_key         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    department_id          uuid,
    department_code        text        NOT NULL,
    department_name        text        NOT NULL,
    parent_department_code text,
    hierarchy_path         text        NOT NULL,
    level                  smallint    NOT NULL,
    department_type        text,
    district               text,
    status                 text        NOT NULL,
    valid_from             timestamptz NOT NULL,
    valid_to               timestamptz NOT NULL DEFAULT '9999-12-31 00:00:00+00',
    is_current             boolean     NOT NULL DEFAULT true,
    etl_batch_id           bigint REFERENCES public.etl_batches (batch_id),
    CHECK (valid_to > valid_from),
    CHECK ((department_key = -1) = (department_id IS NULL)),
    CHECK (department_key = -1 OR etl_batch_id IS NOT NULL)
);
CREATE UNIQUE INDEX dim_department_version_uq ON public.dim_department (department_id, valid_from) INCLUDE (valid_to);
CREATE UNIQUE INDEX dim_department_current_uq ON public.dim_department (department_id) WHERE is_current;
CREATE INDEX dim_department_code_idx ON public.dim_department (department_code, valid_from);
CREATE INDEX dim_department_batch_idx ON public.dim_department (etl_batch_id);

INSERT INTO public.dim_department (department_key, department_id, department_code, department_name,
                                   parent_department_code, hierarchy_path, level, status,
                                   valid_from, valid_to, is_current)
OVERRIDING SYSTEM VALUE
VALUES (-1, NULL, 'UNKNOWN', 'Unknown department', NULL, 'UNKNOWN', 0, 'unknown',
        '1900-01-01 00:00:00+00', '9999-12-31 00:00:00+00', true);

COMMENT ON TABLE public.dim_department IS 'Departments and their offices as a hierarchy (state, department, district office). SCD Type 2. Grain: one row per department version.';
COMMENT ON COLUMN public.dim_department.department_key IS 'Surrogate key of the department version; -1 is the unknown department.';
COMMENT ON COLUMN public.dim_department.department_id IS 'Natural key: departments.department_id in smart_dept.';
COMMENT ON COLUMN public.dim_department.department_code IS 'Business code of the department, unique in the portal; schemes name their owner by it.';
COMMENT ON COLUMN public.dim_department.department_name IS 'Name of the department.';
COMMENT ON COLUMN public.dim_department.parent_department_code IS 'Code of the parent department; null at the top of the hierarchy.';
COMMENT ON COLUMN public.dim_department.hierarchy_path IS 'Codes from the top of the hierarchy down to this department, joined by " > ".';
COMMENT ON COLUMN public.dim_department.level IS 'Depth in the hierarchy: 1 at the top.';
COMMENT ON COLUMN public.dim_department.department_type IS 'state, department or district_office.';
COMMENT ON COLUMN public.dim_department.district IS 'District served, for district offices.';
COMMENT ON COLUMN public.dim_department.status IS 'Department status: active or inactive.';
COMMENT ON COLUMN public.dim_department.valid_from IS 'Start of the version (inclusive).';
COMMENT ON COLUMN public.dim_department.valid_to IS 'End of the version (exclusive); 9999-12-31 00:00:00+00 while current.';
COMMENT ON COLUMN public.dim_department.is_current IS 'True for the open version; exactly one per department.';
COMMENT ON COLUMN public.dim_department.etl_batch_id IS 'Batch (etl_batches) that wrote the version; null for the unknown member.';
