"""Property-based: odd portal rows are loaded correctly, in the right IST day, or quarantined
with their reason — never lost, never doubled.

Each example writes a batch of generated rows (unicode, empty strings, the largest
numeric(12,2), timestamps exactly on and a microsecond around IST midnight = 18:30 UTC,
nulls wherever the portal allows them) into the portals of one throwaway database set,
loads the four days of the window in one run, and compares every row with what the
contract says should become of it. The rows are deleted again before the next example.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from tests.conftest import load_warehouse, quality_thresholds

UTC = timezone.utc
IST = timedelta(hours=5, minutes=30)
FIRST, LAST = date(2026, 9, 1), date(2026, 9, 4)
NOW = datetime.now(UTC)
EARLY = datetime(2026, 1, 1, tzinfo=UTC)
MAX_AMOUNT = Decimal("9999999999.99")  # numeric(12,2)
SCHEME_ID, DEPARTMENT_ID, MODEL_ID = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)
GENDERS = {"male": "male", "m": "male", "female": "female", "f": "female", "other": "other", "o": "other",
           "t": "other", "x": "other", "transgender": "other"}
LABELS = {"eligible": True, "approve": True, "approved": True, "yes": True, "not_eligible": False,
          "ineligible": False, "reject": False, "rejected": False, "no": False}


def ist_day(at: datetime) -> date:
    return (at.astimezone(UTC) + IST).date()


def in_window(at: datetime | None) -> bool:
    return at is not None and FIRST <= ist_day(at) <= LAST


def date_key(at: datetime) -> int:
    return int(ist_day(at).strftime("%Y%m%d"))


# ----------------------------------------------------------------------------- strategies

_midnights = [datetime.combine(FIRST + timedelta(days=i), datetime.min.time(), UTC) - IST for i in range(6)]
instants = st.one_of(
    st.sampled_from(_midnights),  # exactly 00:00 IST (18:30 UTC the day before)
    st.sampled_from(_midnights).map(lambda t: t - timedelta(microseconds=1)),
    st.sampled_from(_midnights).map(lambda t: t + timedelta(microseconds=1)),
    st.datetimes(min_value=datetime(2026, 8, 31, 12), max_value=datetime(2026, 9, 5, 12), timezones=st.just(UTC)),
)
# Any character PostgreSQL text can hold, except the few that Python counts as whitespace
# and PostgreSQL's regex \s may not (unicode separators, \x1c-\x1f, \x85): the spaces the
# cleaning must handle are ' ', tab, newline, \v, \f and \r, which both agree on.
odd_text = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp"),
                                 blacklist_characters="\x00\x1c\x1d\x1e\x1f\x85"), max_size=12)
spaced_text = st.one_of(st.none(), st.just(""), st.just("   "), odd_text,
                        st.builds(lambda a, b: f"\t {a}  \n{b} ", odd_text, odd_text))
amounts = st.one_of(st.none(), st.sampled_from([Decimal(0), Decimal("0.01"), MAX_AMOUNT, -MAX_AMOUNT, Decimal("-0.01")]),
                    st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2, allow_nan=False))
scores = st.one_of(st.none(), st.sampled_from([Decimal(0), Decimal(1), Decimal("0.5"), Decimal("0.4999")]),
                   st.decimals(min_value=0, max_value=1, places=4, allow_nan=False))


@st.composite
def citizens(draw):
    created = draw(st.sampled_from([EARLY, _midnights[2], NOW + timedelta(days=1)]))
    return {
        "citizen_id": uuid.uuid4(),
        "full_name": draw(odd_text),
        "date_of_birth": draw(st.one_of(st.none(), st.dates(), st.sampled_from([date(1, 1, 1), date(9999, 12, 31)]))),
        "gender": draw(st.one_of(st.none(), st.sampled_from(["", " M ", "FEMALE", "x", "Transgender", "ü"]), odd_text)),
        "city": draw(spaced_text),
        "district": draw(spaced_text),
        "state": draw(spaced_text),
        "status": draw(st.sampled_from(["active", "inactive", "deleted"])),
        "created_at": created,
        "updated_at": draw(st.sampled_from([created, max(created, _midnights[3]), NOW + timedelta(hours=1)])),
    }


@st.composite
def applications(draw, people):
    status = draw(st.sampled_from(["draft", "submitted", "under_review", "approved", "rejected", "withdrawn"]))
    submitted = None if status == "draft" else draw(instants)
    decided = None
    if status in ("approved", "rejected"):
        decided = draw(st.one_of(
            st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=40)).map(lambda d: submitted + d),
            st.just(NOW + timedelta(days=1)), st.just(submitted)))
    return {
        "application_id": uuid.uuid4(),
        "application_number": draw(odd_text),
        "citizen_id": draw(st.sampled_from(people))["citizen_id"],
        "status": status,
        "channel": draw(st.sampled_from(["web", "mobile", "csc", "counter"])),
        "submitted_at": submitted,
        "decided_at": decided,
        "amount_requested": draw(amounts),
        "amount_approved": draw(amounts) if status == "approved" else None,
        "remarks": draw(st.one_of(st.none(), odd_text)),
    }


@st.composite
def actions(draw, apps):
    submitted = [a for a in apps if a["submitted_at"] is not None]
    if submitted and draw(st.booleans()):
        app = draw(st.sampled_from(submitted))
        application_id = app["application_id"]
        at = app["submitted_at"] + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
    else:  # an application the citizen portal does not know
        application_id, at = uuid.uuid4(), draw(instants)
    return {
        "action_id": uuid.uuid4(),
        "application_id": application_id,
        "action_type": draw(st.sampled_from(["received", "document_check", "forwarded", "approved", "closed"])),
        "action_at": at,
        "step_number": draw(st.one_of(st.integers(1, 5), st.just(2**31 - 1))),
        "remarks": draw(st.one_of(st.none(), odd_text)),
        "status": draw(st.sampled_from(["active", "active", "deleted"])),
    }


@st.composite
def predictions(draw, apps, people):
    return {
        "prediction_id": uuid.uuid4(),
        "use_case_code": draw(st.sampled_from(["ELIGIBILITY_SCORING", "ELIGIBILITY_SCORING", "DOCUMENT_CLASSIFICATION"])),
        "application_id": draw(st.one_of(st.none(), st.just(uuid.uuid4()),
                                         st.sampled_from([a["application_id"] for a in apps]))),
        "citizen_id": draw(st.one_of(st.none(), st.sampled_from([p["citizen_id"] for p in people]))),
        "scheme_id": draw(st.sampled_from([None, SCHEME_ID])),
        "eligibility_score": draw(scores),
        "confidence_score": draw(scores),
        "predicted_label": draw(st.one_of(st.none(), st.sampled_from(["", " Eligible ", "NO", "maybe"]), odd_text)),
        "features": draw(st.one_of(st.none(), st.builds(lambda t: {"note": t}, odd_text))),
        "predicted_at": draw(instants),
        "status": draw(st.sampled_from(["active", "superseded", "deleted"])),
    }


@dataclass
class World:
    people: list[dict]
    apps: list[dict]
    acts: list[dict] = field(default_factory=list)
    preds: list[dict] = field(default_factory=list)


@st.composite
def worlds(draw):
    people = draw(st.lists(citizens(), min_size=1, max_size=6))
    apps = draw(st.lists(applications(people), min_size=1, max_size=10, unique_by=lambda a: a["application_number"]))
    return World(people, apps, draw(st.lists(actions(apps), max_size=8)),
                 draw(st.lists(predictions(apps, people), max_size=8)))


# ----------------------------------------------------------------------------- portals


def _insert(conn: psycopg.Connection, table: str, rows: list[dict], **fixed) -> None:
    for row in rows:
        values = {**row, **fixed}
        values = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in values.items()}
        conn.execute(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(['%s'] * len(values))})",
                     list(values.values()))


def _reference_rows(urls: dict[str, str]) -> None:
    """The one scheme, department and model every generated row refers to."""
    with psycopg.connect(urls["citizen"]) as conn:
        conn.execute("INSERT INTO schemes (scheme_id, scheme_code, scheme_name, category, department_code, sla_days, "
                     "created_at, updated_at) VALUES (%s, 'PBT-1', 'Property scheme', 'welfare', 'DPBT', 10, %s, %s)",
                     (SCHEME_ID, EARLY, EARLY))
    with psycopg.connect(urls["dept"]) as conn:
        conn.execute("INSERT INTO departments (department_id, department_code, department_name, department_type, "
                     "created_at, updated_at) VALUES (%s, 'DPBT', 'Property department', 'state', %s, %s)",
                     (DEPARTMENT_ID, EARLY, EARLY))
    with psycopg.connect(urls["aiml"]) as conn:
        conn.execute("INSERT INTO ml_models (model_id, use_case_code, model_name, model_version) "
                     "VALUES (%s, 'ELIGIBILITY_SCORING', 'pbt-model', 'v1')", (MODEL_ID,))


def _write(urls: dict[str, str], w: World) -> None:
    with psycopg.connect(urls["citizen"]) as conn:
        _insert(conn, "citizens", w.people)
        _insert(conn, "service_applications", w.apps, scheme_id=SCHEME_ID)
    with psycopg.connect(urls["dept"]) as conn:
        _insert(conn, "processing_actions", w.acts, department_id=DEPARTMENT_ID)
    with psycopg.connect(urls["aiml"]) as conn:
        _insert(conn, "predictions", w.preds, model_id=MODEL_ID)


def _clear(urls: dict[str, str]) -> None:
    with psycopg.connect(urls["aiml"]) as conn:
        conn.execute("DELETE FROM predictions")
    with psycopg.connect(urls["dept"]) as conn:
        conn.execute("DELETE FROM processing_actions")
    with psycopg.connect(urls["citizen"]) as conn:
        conn.execute("DELETE FROM service_applications")
        conn.execute("DELETE FROM citizens")


# ----------------------------------------------------------------------------- what should happen


def _application_reason(a: dict) -> str | None:
    if any(x is not None and x < 0 for x in (a["amount_requested"], a["amount_approved"])):
        return "negative amount"
    if a["submitted_at"] > NOW or (a["decided_at"] is not None and a["decided_at"] > NOW):
        return "timestamp in the future"
    if a["decided_at"] is not None and a["decided_at"] < a["submitted_at"]:
        return "decision before submission"
    return None


def _minutes(seconds: Decimal) -> Decimal:
    return (seconds / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _previous(w: World, act: dict) -> datetime | None:
    """The application's previous live action (any day), else its submission."""
    earlier = [b["action_at"] for b in w.acts if b["application_id"] == act["application_id"]
               and b["status"] != "deleted" and (b["action_at"], b["step_number"]) < (act["action_at"], act["step_number"])]
    if earlier:
        return max(earlier)
    app = next((a for a in w.apps if a["application_id"] == act["application_id"]), None)
    return app["submitted_at"] if app else None


def _label(value: str | None, score: Decimal | None) -> bool:
    text = value.strip(" ").lower() if value is not None and value.isascii() else None
    return LABELS[text] if text in LABELS else (score is not None and score >= Decimal("0.5"))


class Warehouse:
    def __init__(self, url: str):
        self.conn = psycopg.connect(url, autocommit=True)

    def all(self, query: str, params=None) -> list[tuple]:
        return self.conn.execute(query, params).fetchall()

    def by_id(self, query: str) -> dict:
        return {r[0]: r[1:] for r in self.all(query)}

    def version_at(self, citizen_id, at: datetime) -> int:
        found = self.all("SELECT citizen_key FROM dim_citizen WHERE citizen_id = %s AND valid_from <= %s "
                         "AND %s < valid_to", (citizen_id, at, at))
        return found[0][0] if found else -1


def _check(urls: dict[str, str], w: World) -> None:
    wh = Warehouse(urls["warehouse"])
    quarantine = {(t, pk): (reason, day) for t, pk, reason, day in wh.all(
        "SELECT source_table, source_pk, reason, partition_date FROM staging.rejected_rows")}
    window = "BETWEEN %s AND %s" % (FIRST.strftime("%Y%m%d"), LAST.strftime("%Y%m%d"))

    # Citizens: in the dimension with their cleaned attributes, or quarantined for a future time.
    dim = wh.by_id("SELECT citizen_id, gender, birth_year, city, district, state, status FROM dim_citizen "
                   "WHERE is_current AND citizen_key <> -1")
    for p in w.people:
        key = ("citizens", str(p["citizen_id"]))
        if p["created_at"] > NOW or p["updated_at"] > NOW:
            assert quarantine.get(key) == ("timestamp in the future", None) and p["citizen_id"] not in dim, p
            continue
        assert key not in quarantine, p
        gender, birth_year, city, district, state, status = dim[p["citizen_id"]]
        raw_gender = p["gender"].strip(" ").lower() if p["gender"] is not None and p["gender"].isascii() else None
        assert gender == GENDERS.get(raw_gender, "unknown"), p
        assert birth_year == (p["date_of_birth"].year if p["date_of_birth"] else None), p
        assert (city, state, status) == (p["city"].strip(" ") or None if p["city"] is not None else None,
                                         p["state"].strip(" ") or None if p["state"] is not None else None,
                                         p["status"]), p
        spelled = " ".join(p["district"].split()) if p["district"] is not None else ""
        assert (district is None) == (spelled == ""), p
        if district is not None:  # one spelling: the same words, trimmed, single spaces; case may change
            assert district == district.strip() and "  " not in district, p
            # Compared through upper and lower: a case change need not round-trip through lower
            # alone (initcap makes the micro sign a capital Mu, whose lower is mu).
            assert wh.all("SELECT lower(upper(%s)) = lower(upper(%s))", (district, spelled))[0][0], p

    # Applications: every submitted one of the window is in the fact or the quarantine, once.
    facts = wh.by_id(f"""SELECT application_id, application_number, citizen_key, submitted_date_key, decided_date_key,
                             status, channel, amount_requested, amount_approved, processing_days, sla_met
                         FROM fact_service_applications WHERE submitted_date_key {window}""")
    expected_facts = set()
    for a in w.apps:
        key = ("service_applications", str(a["application_id"]))
        if not in_window(a["submitted_at"]):
            assert key not in quarantine and a["application_id"] not in facts, a
            continue
        reason = _application_reason(a)
        if reason:
            assert quarantine.get(key) == (reason, ist_day(a["submitted_at"])) and a["application_id"] not in facts, a
            continue
        expected_facts.add(a["application_id"])
        decided = a["decided_at"]
        days = (ist_day(decided) - ist_day(a["submitted_at"])).days if decided else None
        assert facts[a["application_id"]] == (
            a["application_number"].strip(" "), wh.version_at(a["citizen_id"], a["submitted_at"]),
            date_key(a["submitted_at"]), date_key(decided) if decided else -1, a["status"], a["channel"],
            a["amount_requested"], a["amount_approved"], days, None if days is None else days <= 10), a
    assert set(facts) == expected_facts

    # Processing actions: each live one of the window is loaded with its minutes since the previous step.
    acts = wh.by_id(f"""SELECT action_id, application_id, action_date_key, action_type, step_number, processing_minutes
                        FROM fact_application_processing WHERE action_date_key {window}""")
    expected_acts = set()
    for b in w.acts:
        if b["status"] == "deleted" or not in_window(b["action_at"]):
            assert b["action_id"] not in acts and ("processing_actions", str(b["action_id"])) not in quarantine, b
            continue
        expected_acts.add(b["action_id"])
        previous = _previous(w, b)
        minutes = _minutes(Decimal(str((b["action_at"] - previous).total_seconds()))) if previous else None
        assert acts[b["action_id"]] == (b["application_id"], date_key(b["action_at"]), b["action_type"],
                                        b["step_number"], minutes), b
    assert set(acts) == expected_acts

    # Eligibility predictions: loaded with label, outcome and citizen version, or quarantined without an application.
    preds = wh.by_id(f"""SELECT prediction_id, application_id, citizen_key, prediction_date_key, eligibility_score,
                             confidence_score, predicted_eligible, actual_outcome, is_correct
                         FROM fact_eligibility_scoring WHERE prediction_date_key {window}""")
    expected_preds = set()
    statuses = {a["application_id"]: a["status"] for a in w.apps}
    for q in w.preds:
        key = ("predictions", str(q["prediction_id"]))
        if q["use_case_code"] != "ELIGIBILITY_SCORING" or q["status"] == "deleted" or not in_window(q["predicted_at"]):
            assert q["prediction_id"] not in preds and key not in quarantine, q
            continue
        if q["application_id"] is None:
            assert quarantine.get(key) == ("missing key: application_id", ist_day(q["predicted_at"])), q
            continue
        expected_preds.add(q["prediction_id"])
        eligible = _label(q["predicted_label"], q["eligibility_score"])
        outcome = statuses.get(q["application_id"]) if statuses.get(q["application_id"]) in ("approved", "rejected") else None
        citizen_key = wh.version_at(q["citizen_id"], q["predicted_at"]) if q["citizen_id"] else -1
        assert preds[q["prediction_id"]] == (
            q["application_id"], citizen_key, date_key(q["predicted_at"]), q["eligibility_score"],
            q["confidence_score"], eligible, outcome, None if outcome is None else eligible == (outcome == "approved")), q
    assert set(preds) == expected_preds

    # And the quarantine holds nothing else of this world.
    ours = {("citizens", str(p["citizen_id"])) for p in w.people} | \
           {("service_applications", str(a["application_id"])) for a in w.apps} | \
           {("predictions", str(q["prediction_id"])) for q in w.preds}
    assert set(quarantine) <= ours
    wh.conn.close()


# ----------------------------------------------------------------------------- the property


@pytest.fixture(scope="module")
def property_urls(make_database_set, migrated_template) -> dict[str, str]:
    urls = make_database_set(template=migrated_template, label="pbt")
    _reference_rows(urls)
    return urls


# A load takes seconds, so shrinking a failure would take many minutes: a failing world is
# reported as generated (every assertion names the row it is about).
@settings(max_examples=8, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=worlds())
def test_every_odd_row_is_loaded_right_or_quarantined_with_its_reason(property_urls, world):
    urls = property_urls
    _clear(urls)
    _write(urls, world)
    thresholds = quality_thresholds(unknown_member_warn=1.0, unknown_member_error=1.0,
                                    quarantine_warn=1.0, quarantine_error=1.0)
    result = load_warehouse(urls, FIRST, LAST, raise_on_error=False, thresholds=thresholds)
    failures = [(e.step_key, e.step_failure_data.error.message) for e in result.all_events if e.is_step_failure]
    assert result.success, failures
    _check(urls, world)
