"""The model-performance figures, on predictions small enough to work out by hand."""

from __future__ import annotations

import json

import polars as pl
import pytest

from smart_warehouse_assets.aggregates.model_performance import _SCHEMA, COLUMNS, performance

# (date_key, model_key, use case, positive-class score, predicted positive, actually positive, confidence)
ROWS = [
    (20260901, 7, "ELIGIBILITY_SCORING", 0.9, True, True, 0.9),
    (20260901, 7, "ELIGIBILITY_SCORING", 0.8, True, False, 0.8),
    (20260901, 7, "ELIGIBILITY_SCORING", 0.7, True, True, 0.7),
    (20260901, 7, "ELIGIBILITY_SCORING", 0.4, False, True, 0.6),
    (20260901, 7, "ELIGIBILITY_SCORING", 0.2, False, False, 0.8),
    (20260901, 7, "ELIGIBILITY_SCORING", 0.2, False, False, 0.8),  # ties with the one above
    (20260901, 7, "ELIGIBILITY_SCORING", 0.5, True, None, 0.5),  # not judged yet
    (20260901, 9, "DROPOUT_PREDICTION", 0.3, False, False, 0.7),  # one class only
    (20260901, 9, "DROPOUT_PREDICTION", 0.1, False, False, 0.9),
    (20260902, 7, "ELIGIBILITY_SCORING", 0.6, True, None, 0.6),  # nothing judged that day
]


@pytest.fixture(scope="module")
def figures() -> dict[tuple, dict]:
    frame = performance(pl.DataFrame(ROWS, schema=_SCHEMA, orient="row"))
    assert frame.columns == COLUMNS
    return {(r["date_key"], r["model_key"]): r for r in frame.to_dicts()}


def test_counts_and_classification_figures(figures):
    day = figures[(20260901, 7)]
    assert (day["predictions"], day["predictions_judged"], day["predictions_correct"]) == (7, 6, 4)
    # TP 2, FP 1, FN 1, TN 2
    assert day["accuracy"] == pytest.approx(0.66667)
    assert day["precision_score"] == day["recall_score"] == day["f1_score"] == pytest.approx(0.66667)
    assert day["mean_confidence"] == pytest.approx(0.76667)


def test_ranking_and_probability_figures(figures):
    day = figures[(20260901, 7)]
    # Positive scores 0.9, 0.7, 0.4 against negative 0.8, 0.2, 0.2: 7 of 9 pairs in order.
    assert day["roc_auc"] == pytest.approx(0.77778)
    assert day["brier_score"] == pytest.approx(0.19667)  # (0.01 + 0.64 + 0.09 + 0.36 + 0.04 + 0.04) / 6
    deciles = json.loads(day["calibration"])
    assert [(d["decile"], d["predictions"], d["observed_rate"]) for d in deciles] == [
        (2, 2, 0.0), (4, 1, 1.0), (7, 1, 1.0), (8, 1, 0.0), (9, 1, 1.0)]
    assert day["calibration_error"] == pytest.approx(0.36667)  # (2*0.2 + 0.6 + 0.3 + 0.8 + 0.1) / 6


def test_undefined_figures_are_null_not_zero(figures):
    one_class = figures[(20260901, 9)]
    assert one_class["accuracy"] == 1.0
    assert one_class["roc_auc"] is None  # no positive: no ranking to judge
    assert one_class["precision_score"] is None and one_class["recall_score"] is None
    unjudged = figures[(20260902, 7)]
    assert (unjudged["predictions"], unjudged["predictions_judged"]) == (1, 0)
    assert all(unjudged[m] is None for m in ("accuracy", "roc_auc", "brier_score", "calibration"))
