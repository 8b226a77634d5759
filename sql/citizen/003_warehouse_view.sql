-- What the warehouse may see of a citizen: no name, e-mail, phone, identity number,
-- address or pincode, and the date of birth only as a year. The warehouse's reader role
-- (sql/roles/citizen.sql) is granted this view, not the columns of citizens it is built
-- from, so a date of birth cannot leave the portal even by a mistaken query.

CREATE VIEW public.citizens_for_warehouse AS
SELECT citizen_id,
       gender,
       extract(year FROM date_of_birth)::integer AS birth_year,
       city,
       district,
       state,
       status,
       created_at,
       updated_at
FROM public.citizens;

COMMENT ON VIEW public.citizens_for_warehouse IS 'Non-personal columns of citizens for the warehouse extraction; the date of birth reduced to its year.';
COMMENT ON COLUMN public.citizens_for_warehouse.birth_year IS 'Year of date_of_birth (the date itself never leaves the portal).';
