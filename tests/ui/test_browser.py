"""The analyst's journey in the real Dagster UI, in headless Chromium.

dagster-webserver and dagster-daemon run over a copy of the seeded test world; the
warehouse is loaded for every seeded day in one run on the same Dagster instance (what
`smart-warehouse demo` does before `smart-warehouse ui`). Then, as a user sees them: the
asset graph lists the warehouse groups; the upstream lineage of agg_daily_applications
reaches the fact, the dimensions and the portal tables; the partitions of
fact_service_applications show the loaded days materialized, and each day picked shows
that day's own row count (the one SQL counts), as a day of the staging table shows its own
quarantined rows; its checks all pass; the materialize dialog offers a single-run backfill. Each view is saved as a screenshot: to a
temporary folder, or, with SMART_UPDATE_SCREENSHOTS=1, to docs/screenshots/ where the
analyst's guide shows it (so an ordinary test run leaves the work tree as it was).

Chromium is Debian's `chromium` package (Playwright's own browser download is not
available here); `.ci/run` installs it. Without it the test skips, except in CI.
"""

from __future__ import annotations

import os
import re
import time
import shutil
from pathlib import Path

import psycopg
import pytest

from smart_warehouse_assets.definitions import build_definitions
from smart_warehouse_assets.jobs import run_load
from smart_warehouse_assets.partitions import daily_partitions
from smart_warehouse_assets.quality import suite
from tests.conftest import LAST_DAY, TEST_DAYS, TEST_START, quality_thresholds
from tests.dagster_services import PROJECT_ROOT, dagster_services

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DOCS_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
GROUPS = ("citizen_portal", "dept_portal", "aiml_portal", "staging", "dimensions", "facts", "aggregates", "ml", "etl_control")
WAIT_MS = 30_000


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Playwright Python client is not installed (pip install -e '.[dev]')"
    if not CHROMIUM:
        return "no Chromium installed: apt-get install -y chromium (Debian's package; .ci/run installs it)"
    return None


reason = _skip_reason()
if reason and os.environ.get("CI"):
    raise RuntimeError(f"the browser test must run in CI: {reason}")
pytestmark = pytest.mark.skipif(bool(reason), reason=reason or "")


@pytest.fixture(scope="module")
def ui(make_database_set, seeded_template, tmp_path_factory):
    """The services over a fresh copy of the seeded world, the warehouse loaded through them."""
    seeded, _ = seeded_template
    urls = make_database_set(template=seeded, label="ui")
    with dagster_services(urls, tmp_path_factory.mktemp("dagster_home"), wait=False) as services:
        # Load while the webserver loads the code location: same instance, so the UI sees the run.
        defs = build_definitions(urls, quality_thresholds())
        with services.instance() as instance:
            # Observed first, so the UI sees the warehouse as up to date with its sources.
            defs.resolve_job_def("observe_portals").execute_in_process(instance=instance)
            run_load(defs, TEST_START, LAST_DAY, instance=instance, log_level="WARNING")
        services.wait_until_ready(timeout=120)
        # Mark the first-visit newsletter dialog seen (what its Skip button does): it covers the UI.
        services.graphql("mutation { setNuxSeen }")
        services.urls = urls
        yield services


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(ui, browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=ui.url)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    yield page
    context.close()


def _open(page, path: str, ready_text: str):
    """Go to ``path`` and wait until ``ready_text`` shows."""
    page.goto(path)
    page.get_by_text(ready_text, exact=False).first.wait_for()


_folder: dict[str, Path] = {}


@pytest.fixture(scope="module", autouse=True)
def screenshots(tmp_path_factory) -> Path:
    update = os.environ.get("SMART_UPDATE_SCREENSHOTS") == "1"
    _folder["path"] = DOCS_SCREENSHOTS if update else tmp_path_factory.mktemp("screenshots")
    return _folder["path"]


def _shot(page, name: str) -> None:
    folder = _folder["path"]
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def test_asset_graph_lists_the_warehouse_groups(page):
    _open(page, "/asset-groups", "Global asset lineage")
    for group in GROUPS:
        page.get_by_text(group, exact=True).first.wait_for()
    # The graph itself draws the groups as boxes, portals on the left, the aggregate on the right.
    graph = page.locator("svg foreignObject")
    assert graph.count() >= len(GROUPS)
    _shot(page, "asset-graph")


def test_lineage_of_the_aggregate_reaches_fact_dimensions_and_portals(page):
    page.set_viewport_size({"width": 1920, "height": 1800})
    # The Lineage tab with "Upstream" and graph depth "All" (4 levels) chosen, as its URL keeps them;
    # opened afresh, the graph is zoomed to fit the view.
    _open(page, "/assets/agg_daily_applications?view=lineage&lineageScope=upstream&lineageDepth=4", "Graph depth")
    expected = {"fact_service_applications", "dim_citizen", "dim_date", "dim_scheme", "dim_department",
                "service_applications", "citizens", "schemes", "departments"}
    names = page.locator("[class*='AssetNode_assetName']")
    names.first.wait_for()
    counts = [-1]
    while counts[-1] != names.count() or len(counts) < 3:  # the graph lays itself out and fits the view
        counts.append(names.count())
        page.wait_for_timeout(500)
    _shot(page, "lineage-agg-daily-applications")
    # Zoomed out to fit, long names are cut in the middle ("service_appl…tions"): a cut name
    # counts for the expected name it abbreviates (same head, same tail).
    def matches(name: str, text: str) -> bool:
        if "…" not in text:
            return text == name
        head, tail = text.split("…", 1)
        return len(name) > len(head) + len(tail) and name.startswith(head) and name.endswith(tail)

    missing = set(expected)
    deadline = time.monotonic() + 30
    while missing and time.monotonic() < deadline:
        shown = {t.strip() for t in names.all_inner_texts()}
        missing = {n for n in expected if not any(matches(n, t) for t in shown)}
        page.wait_for_timeout(250)
    assert not missing, f"missing upstream of agg_daily_applications: {missing} (shown: {shown})"
    for group in ("facts", "dimensions", "staging", "citizen_portal", "dept_portal"):
        page.get_by_text(group, exact=True).first.wait_for()


def _day_counts(url: str, query: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {d.isoformat(): n for d, n in conn.execute(query)}


def _open_day(page, day: str) -> None:
    """Pick a day in the partitions list; wait for its own panel."""
    page.get_by_placeholder("Filter by name").fill(day)
    page.get_by_text(day, exact=True).locator("visible=true").first.click()
    page.get_by_text("Latest materialization").first.wait_for()


def _metadata_value(page, key: str):
    return page.locator("tr", has=page.get_by_text(key, exact=True)).first.locator("td").nth(1)


def test_partitions_view_shows_each_days_own_figures(page, ui):
    from playwright.sync_api import expect

    counts = _day_counts(ui.urls["warehouse"], "SELECT to_date(submitted_date_key::text, 'YYYYMMDD'), count(*) "
                                               "FROM public.fact_service_applications GROUP BY 1")
    inner = sorted(d for d in counts if TEST_START.isoformat() < d < LAST_DAY.isoformat())
    busiest, quietest = max(inner, key=counts.get), min(inner, key=counts.get)
    assert counts[busiest] != counts[quietest]
    _open(page, "/assets/fact_service_applications?view=partitions", "Materialized (")
    page.get_by_text(f"Materialized ({TEST_DAYS})").first.wait_for()
    # Narrow the view to the loaded range, as a user types it.
    range_input = page.locator("input[value*='...']").first
    range_input.fill(f"[{TEST_START}...{LAST_DAY}]")
    range_input.press("Enter")
    page.get_by_text(f"{TEST_DAYS} Partitions Selected").wait_for()
    page.get_by_text("Missing (0)").wait_for()
    page.get_by_text("Failed (0)").wait_for()
    for day in (quietest, busiest):
        _open_day(page, day)
        expect(_metadata_value(page, "dagster/partition_row_count")).to_have_text(str(counts[day]))
        expect(_metadata_value(page, "rows_loaded")).to_have_text(str(counts[day]))
        expect(_metadata_value(page, "run_partition_range")).to_have_text(f"{TEST_START}...{LAST_DAY}")
    _shot(page, "partitions-fact-service-applications")


def test_a_quarantined_row_shows_on_its_own_day(page, ui):
    from playwright.sync_api import expect

    rejected = _day_counts(ui.urls["warehouse"], "SELECT partition_date, count(*) FROM staging.rejected_rows "
                                                 "WHERE source_table = 'service_applications' GROUP BY 1")
    staged = _day_counts(ui.urls["warehouse"], "SELECT partition_date, count(*) FROM staging.service_applications "
                                               "GROUP BY 1")
    day = next(d for d in sorted(rejected) if TEST_START.isoformat() < d <= LAST_DAY.isoformat())
    clean = next(d for d in sorted(staged) if d not in rejected and TEST_START.isoformat() < d)
    _open(page, "/assets/staging/service_applications?view=partitions", "Materialized (")
    for shown, quarantined in ((day, rejected[day]), (clean, 0)):
        _open_day(page, shown)
        expect(_metadata_value(page, "rows_rejected")).to_have_text(str(quarantined))
        expect(_metadata_value(page, "rows_extracted")).to_have_text(str(staged[shown] + quarantined))
        expect(_metadata_value(page, "dagster/partition_row_count")).to_have_text(str(staged[shown]))
        if quarantined:
            _shot(page, "partitions-staging-quarantined-day")


def test_checks_tab_shows_passing_checks(page):
    checks = suite.FACTS["fact_service_applications"]
    _open(page, "/assets/fact_service_applications?view=checks", "Checks (")
    page.get_by_text(f"Checks ({len(checks)})").wait_for()
    for check in checks:  # a long name is shown middle-truncated; its full text is in the row
        page.get_by_text(check.name, exact=True).first.wait_for(state="attached")
    listing = page.get_by_text("Succeeded", exact=True)
    listing.nth(len(checks) - 1).wait_for()
    assert listing.count() == len(checks)
    assert page.get_by_text("Failed", exact=True).count() == 0
    page.get_by_text("Passed", exact=True).first.wait_for()
    _shot(page, "checks-fact-service-applications")


def test_column_docs_and_single_run_backfill_dialog(page):
    _open(page, "/assets/fact_service_applications", "Columns")
    page.get_by_text("IST day of submission (YYYYMMDD); the partition key.").first.wait_for()
    _shot(page, "columns-fact-service-applications")
    page.get_by_role("button", name="Materialize…").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Partition selection").wait_for()
    # The dialog offers the last 90 partitions only; the test world's days fall out of them
    # once it is older than that.
    if len(daily_partitions.get_partition_keys()) > 90:
        dialog.get_by_text("Show all partitions").click()
    # A date range, typed as the partitions view shows it: one backfill, one run.
    selection = dialog.get_by_placeholder(re.compile("partition|^ex:", re.IGNORECASE)).first
    selection.fill(f"[{TEST_START}...{LAST_DAY}]")
    selection.press("Enter")
    dialog.get_by_text(f"{TEST_DAYS} partitions").first.wait_for()
    dialog.get_by_text("Backfills all partitions in a single run.").wait_for()
    _shot(page, "backfill-dialog")
