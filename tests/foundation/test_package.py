"""The project is a real package: what the wheel holds, what it declares, how it runs installed.

The wheel test builds the wheel from the project's own files, installs it (not linked) into a
fresh virtual environment outside the repository, and from a directory outside the repository
migrates throwaway databases and loads the code location — what a deployment image does.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import psycopg
import pytest

from smart_warehouse_assets.settings import DATABASES

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGE = ROOT / "smart_warehouse_assets"

# Declared for what they run, though our modules never import them.
RUN_NOT_IMPORTED = {
    "dagster-webserver": "the UI that `smart-warehouse ui` and `dagster dev` start",
    "dagster-postgres": "the production instance storage named in deploy/dagster.yaml",
}


def _normal(name: str) -> str:
    return name.lower().replace("_", "-")


def _declared() -> set[str]:
    names = set()
    for requirement in PYPROJECT["project"]["dependencies"]:
        names.add(_normal(requirement.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip()))
    return names


def _imported_distributions() -> set[str]:
    """Distributions whose modules the package imports (stdlib and itself excluded)."""
    modules = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    modules -= set(sys.stdlib_module_names) | {"smart_warehouse_assets", "__future__"}
    owners = packages_distributions()
    missing = sorted(m for m in modules if m not in owners)
    assert not missing, f"imported modules no installed distribution provides: {missing}"
    return {_normal(d) for m in modules for d in owners[m]}


def test_every_imported_distribution_is_declared():
    undeclared = _imported_distributions() - _declared()
    assert not undeclared, f"imported but not in pyproject's dependencies: {sorted(undeclared)}"


def test_every_declared_dependency_is_used():
    unused = _declared() - _imported_distributions() - set(RUN_NOT_IMPORTED)
    assert not unused, f"declared but never imported (use it or drop it): {sorted(unused)}"


def test_the_wheel_lists_every_package_folder():
    """pyproject names the packages one by one (sql/ is mapped in); a new folder must be added."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.relative_to(ROOT).parts)
        for p in [PACKAGE, *PACKAGE.rglob("*")]
        if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))
    }
    on_disk |= {"smart_warehouse_assets.sql"} | {
        f"smart_warehouse_assets.sql.{p.name}" for p in (ROOT / "sql").iterdir() if p.is_dir()
    }
    assert listed == on_disk
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"smart_warehouse_assets.sql": "sql"}


# ---------------------------------------------------------------------------- the wheel itself

def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {f"{s}.{t}" for s, t in conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")}


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> Path:
    """A fresh venv outside the repository with the built wheel installed in it.

    The venv's own site-packages holds only the wheel; the test venv's dependencies are
    reachable through a .pth line (so nothing is downloaded), which adds that folder to
    the path without running its .pth files — the editable install's hook stays out.
    """
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("smart_warehouse_assets", "sql"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = _run([*pip, "wheel", "--no-deps", "-w", str(base / "dist"), str(source)], cwd=base, env=dict(os.environ))
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (base / "dist").glob("smart_warehouse-*.whl")

    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     cwd=base, env={}).stdout.strip())
    (site / "test_venv_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    done = _run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
                cwd=base, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def _installed_env(urls: dict[str, str], home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMART_", "PYTHON"))}
    env.update({db.env_var: urls[key] for key, db in DATABASES.items()})
    return env | {"DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1"}


def test_the_installed_wheel_migrates_and_loads_from_outside_the_repository(
        installed_wheel, make_database_set, migrated_template, tmp_path):
    venv, elsewhere = installed_wheel, tmp_path / "elsewhere"
    (elsewhere / "home").mkdir(parents=True)
    python = str(venv / "bin" / "python")
    urls = make_database_set(label="whl")  # five empty databases
    env = _installed_env(urls, elsewhere / "home")

    where = _run([python, "-c", "import smart_warehouse_assets.paths as p; print(p.SQL_ROOT, p.IN_CHECKOUT)"],
                 cwd=elsewhere, env=env)
    sql_root, in_checkout = where.stdout.split()
    assert Path(sql_root).is_relative_to(venv) and in_checkout == "False", where.stdout + where.stderr

    up = _run([str(venv / "bin" / "smart-warehouse"), "db", "up"], cwd=elsewhere, env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "up to date" not in up.stdout
    for key in DATABASES:
        assert _tables(urls[key]) == _tables(migrated_template[key]), key

    again = _run([str(venv / "bin" / "smart-warehouse"), "db", "up"], cwd=elsewhere, env=env)
    assert again.returncode == 0 and again.stdout.count("up to date") == len(DATABASES), again.stdout

    validate = _run([python, "-m", "dagster", "definitions", "validate", "-m", "smart_warehouse_assets.definitions"],
                    cwd=elsewhere, env=env)
    assert validate.returncode == 0, validate.stdout[-3000:] + validate.stderr[-3000:]
    assert "Validation successful" in validate.stdout + validate.stderr


def test_db_up_refuses_an_install_without_its_sql(installed_wheel, make_database_set, tmp_path):
    """A broken image (no sql/ beside the code) stops with the database and folder named."""
    venv = tmp_path / "broken"
    shutil.copytree(installed_wheel, venv, symlinks=True)
    site = next(venv.glob("lib/python*/site-packages"))
    shutil.rmtree(site / "smart_warehouse_assets" / "sql")
    python = venv / "bin" / "python"
    urls = make_database_set(label="nosql")
    env = _installed_env(urls, tmp_path)
    up = _run([str(python), "-m", "smart_warehouse_assets.cli", "db", "up"], cwd=tmp_path, env=env)
    assert up.returncode == 1, up.stdout + up.stderr
    assert "up to date" not in up.stdout
    assert "no migration files for database" in up.stderr and str(site / "smart_warehouse_assets") in up.stderr
    assert "Traceback" not in up.stderr
    assert _tables(urls["citizen"]) - {"public.schema_migrations"} == set()
