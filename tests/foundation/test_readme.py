"""The README's Quick start stays true: two commands, the second is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", section, re.DOTALL).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "smart-warehouse demo" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_exactly_the_readme_test_command():
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert quick_start_commands()[1] in ci
    assert ci[-1] == quick_start_commands()[1]


def test_workspace_and_pyproject_name_the_code_location():
    assert "smart_warehouse_assets.definitions" in (ROOT / "workspace.yaml").read_text()
    assert 'module_name = "smart_warehouse_assets.definitions"' in (ROOT / "pyproject.toml").read_text()
