"""The domain rules of the synthetic world, defined once for ``seed`` and ``simulate``.

``seed`` builds a whole period in bulk and ``simulate`` then lives it on day by day; a
simulated day must read like a seeded one. So both take the vocabularies (statuses,
channels, actions, notices), the mixes and odds, the amounts' ranges and the delays
between events from here. A rule that draws takes the caller's random stream and draws
exactly what the caller drew before, so the order of the draws — which fixes the bytes of
every table — stays with the caller. Where seed and simulate state a rule differently on
purpose (a share over the whole period against a share per day, a processing time drawn
up front against a daily chance of a decision), both forms sit side by side.
"""

from __future__ import annotations

import hashlib

import numpy as np

from smart_warehouse_assets.synthetic import reference as ref
from smart_warehouse_assets.synthetic.core import MINUTE


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, by which latent values become chances."""
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------- applications
STATUSES = ("draft", "submitted", "under_review", "approved", "rejected", "withdrawn")
DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, WITHDRAWN = range(len(STATUSES))
OPEN_STATUSES = ("submitted", "under_review")  # waiting on the department
DECIDED_STATUSES = ("approved", "rejected")
CLOSED_STATUSES = (*DECIDED_STATUSES, "withdrawn")  # the assignment is completed

CHANNELS = ("web", "mobile", "csc", "counter")
CHANNEL_P = (0.45, 0.30, 0.17, 0.08)
CHANNEL_ACTOR = ("citizen", "citizen", "csc-operator", "counter-clerk")  # who creates the row, per channel
DRAFT_SHARE = 0.05  # applications started and never submitted

# Withdrawals: a share of all applications over their life (seed), or of the open ones per day (simulate).
WITHDRAW_SHARE = 0.04
WITHDRAW_DAILY = 0.0015

# Review and decision. seed draws when each happens; simulate gives each open application
# a chance a working day.
REVIEW_START_P = 0.55  # seed: review starts on each day after submission with this chance
REVIEW_DAILY = 0.6  # simulate: a submitted application goes under review on a working day
DECISION_SLA_SHARE = 0.62  # seed: the median processing time, as a share of the scheme's SLA
DECISION_SPREAD = 0.45  # seed: the lognormal spread of the processing time


def processing_days(rng: np.random.Generator, sla_days: np.ndarray) -> np.ndarray:
    """seed: days from submission to decision, given the SLA in force at submission."""
    return np.ceil(sla_days * rng.lognormal(np.log(DECISION_SLA_SHARE), DECISION_SPREAD, len(sla_days))).astype(np.int64)


def approval_odds(z: np.ndarray) -> np.ndarray:
    """seed: the chance of approval from the applicant's latent eligibility ``z`` (standard normal)."""
    return sigmoid(1.7 * z + 0.75)


def decision_odds_daily(age_days: int, sla_days) -> float:
    """simulate: the chance a reviewed application is decided today, rising with its age
    against 0.6 of the SLA."""
    return float(np.clip(0.12 * (age_days / max(sla_days * 0.6, 1)) ** 2, 0.01, 0.6))


def approval_odds_for_score(score: float) -> float:
    """simulate: the chance of approval, following the eligibility score."""
    return np.clip(score * 1.1, 0.05, 0.95)


# Amounts: a quarter of requests ask for part of the benefit; a fifth of approvals grant less.
MIN_AMOUNT = 100.0
PARTIAL_REQUEST_SHARE = 0.25
REQUEST_FRACTION = (0.3, 1.0)
FULL_APPROVAL_SHARE = 0.8
APPROVAL_FRACTION = (0.5, 1.0)

# Minutes (low, high) from submission to the assignment and to the eligibility score.
ASSIGN_DELAY_MINUTES = (1, 30)
SCORE_DELAY_MINUTES = (1, 20)

# Processing actions: type and the remark the officer writes.
ACTIONS = (
    ("received", "Application received"), ("document_check", "Documents checked"),
    ("field_verification", "Field visit done"), ("forwarded", "Forwarded for decision"),
    ("returned", "Returned for clarification"), ("approved", "Approved"), ("rejected", "Rejected"),
    ("closed", "Closed on withdrawal"),
)
ACTION_REMARK = dict(ACTIONS)

# Notices to the citizen (template -> subject) and to the officer (type -> message).
NOTICES = {
    "APP_SUBMITTED": "Application received", "APP_DECIDED": "Decision on your application",
    "APP_WITHDRAWN": "Application withdrawn", "DRAFT_REMINDER": "Complete your application",
}
SUBMITTED_NOTICE_DELAY = MINUTE
DECIDED_NOTICE_DELAY = 5 * MINUTE
DEPT_NOTICES = {"assignment": "New application assigned to you", "sla_warning": "Application nearing its SLA"}

# ---------------------------------------------------------------- schemes
MIN_SLA_DAYS = 5  # a scheme's SLA never changes to fewer days

# ---------------------------------------------------------------- citizens
GENDERS = ("male", "female", "other")
GENDER_P = (0.49, 0.49, 0.02)
FIRST_NAMES = (ref.MALE_NAMES, ref.FEMALE_NAMES, ref.OTHER_NAMES)  # by gender
MOBILE_RANGE = (6_000_000_000, 9_999_999_999)
HOUSE_NUMBERS = (1, 400)
PINCODE_SUFFIXES = (1, 60)
# A few citizens move district: a share over the seeded period, a share per simulated day.
MOVER_SHARE = 0.03
MOVER_DAILY = 0.0003


def age_days(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ages of n adult citizens, in days: 18 to 85 years, most of them under 50."""
    return ((18 + rng.beta(2.0, 3.2, n) * 67) * 365.25).astype(np.int64)


def name_handle(first: str, last: str) -> str:
    """The ``first.last`` part of an e-mail address or user name."""
    return f"{first.lower()}.{last.lower().replace(chr(39), '')}"


def mobile_number(digits) -> str:
    """An Indian mobile number from its ten digits."""
    return f"+91{digits}"


def pincode(prefix: str, suffix) -> str:
    """A PIN code in a district: its three-digit prefix and a three-digit suffix."""
    return f"{prefix}{suffix:03d}"


def address_line(house, street: str, kind: str) -> str:
    """``house, street kind`` (e.g. ``12, Gandhi Road``)."""
    return f"{house}, {street} {kind}"


def id_number_hash(citizen_id: bytes) -> str:
    """The stand-in for the hashed identity number, derived from the citizen id."""
    return hashlib.sha256(b"smart-citizen-id:" + citizen_id).hexdigest()


def transaction_ref(payment_id: str) -> str:
    """The bank reference of a payment, from its id (canonical text)."""
    return "TXN" + payment_id.replace("-", "")[:16].upper()


# ---------------------------------------------------------------- models
ELIGIBILITY = "ELIGIBILITY_SCORING"
SLA_USE_CASE = "SLA_BREACH_PREDICTION"
DROPOUT_USE_CASE = "DROPOUT_PREDICTION"
ELIGIBLE_AT = 0.5  # scores from here on are labelled eligible
SCORE_RANGE = (0.0001, 0.9999)


def eligibility_label(score):
    """The label of an eligibility score (a float), or of each score of an array."""
    if np.ndim(score):
        return np.where(score >= ELIGIBLE_AT, "eligible", "not_eligible")
    return "eligible" if score >= ELIGIBLE_AT else "not_eligible"


def confidence(score):
    """The model's confidence in a score (float or array): higher away from the boundary."""
    return 0.55 + 0.8 * abs(score - ELIGIBLE_AT)


# ---------------------------------------------------------------- monitoring
DEGRADED_SLOWDOWN = 8  # a degraded component answers this many times slower

