"""docs/ml.md's code runs, in order, on the loaded test world, and says what it claims."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from smart_warehouse_assets.ml.training_set import TrainingSetSettings
from smart_warehouse_assets.resources import PostgresResource

DOC = Path(__file__).resolve().parents[2] / "docs" / "ml.md"


def test_the_ml_guide_runs_on_the_warehouse(loaded_template, capsys):
    urls, _ = loaded_template
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 4
    scope = {"FOLDER": TrainingSetSettings().folder(PostgresResource(url=urls["warehouse"])),
             "WAREHOUSE_URL": urls["warehouse"]}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), scope)  # noqa: S102 (the guide's own code)
    comparison, test, daily = scope["comparison"], scope["test"], scope["daily"]
    assert comparison.get_column("use_case_code").sort().to_list() == ["candidate", "production"]
    assert comparison.get_column("predictions_judged").to_list() == [test.height, test.height]
    production = comparison.filter(pl.col("use_case_code") == "production").row(0, named=True)
    assert production["accuracy"] == round((test["production_predicted"] == test["label"]).mean(), 5)
    assert daily.height > 0 and set(daily.get_column("status")) <= {"production", "archived", "staging"}
    assert "approval_rate" in capsys.readouterr().out
