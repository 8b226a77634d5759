"""How a fact row finds its dimension members: the version valid at the event time.

Every dimension key is found with a range join on [valid_from, valid_to); a member that
cannot be found becomes -1. A fact's department is the department owning the scheme (the
scheme version's department_code). Used to assemble the facts' SELECTs at import time from
constants only.
"""

DATE_KEY = "to_char({} AT TIME ZONE 'Asia/Kolkata', 'YYYYMMDD')::integer"


def version_join(alias: str, table: str, on: str, at: str) -> str:
    """LEFT JOIN of the dimension version of ``table`` valid at ``at``."""
    return f"LEFT JOIN public.{table} {alias} ON {on} AND {at} >= {alias}.valid_from AND {at} < {alias}.valid_to"


def application_group(alias: str) -> str:
    """The agg_daily_applications group of an applications fact row, as the facts queue it for
    the aggregate (aggregates/daily_applications.py): submission day, scheme, department and the
    applicant's version, whose state and district are the group's."""
    return (f"concat_ws('|', {alias}.submitted_date_key, {alias}.scheme_key, {alias}.department_key, "
            f"{alias}.citizen_key)")
