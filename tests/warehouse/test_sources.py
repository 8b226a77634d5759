"""Portal tables are upstream assets whose observations record row count and latest update."""

from __future__ import annotations

import dagster as dg

from smart_warehouse_assets.definitions import build_definitions
from tests.warehouse.helpers import rows


def test_observing_the_portals_records_row_counts_and_latest_updates(seeded_template):
    urls, _ = seeded_template
    defs = build_definitions(urls)
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("observe_portals").execute_in_process(instance=instance)
        assert result.success
        observed = {
            e.asset_key.to_user_string(): e.event_specific_data.asset_observation
            for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"
        }
    assert set(observed) == {
        "smart_citizen/citizens", "smart_citizen/schemes", "smart_citizen/service_applications", "smart_citizen/payments",
        "smart_dept/departments", "smart_dept/designations", "smart_dept/dept_users", "smart_dept/approval_chains",
        "smart_dept/application_assignments", "smart_dept/processing_actions",
        "smart_aiml/ml_use_cases", "smart_aiml/ml_models",
        "smart_aiml/predictions",
    }
    (count, latest), = rows(urls["citizen"], "SELECT count(*), max(updated_at) FROM service_applications")
    obs = observed["smart_citizen/service_applications"]
    assert obs.metadata["dagster/row_count"].value == count
    assert obs.metadata["latest_updated_at"].value == latest.isoformat()
    assert obs.tags.get("dagster/data_version") == f"{count}@{latest.isoformat()}"


def test_sources_carry_their_portal_and_data_centre():
    graph = build_definitions().resolve_asset_graph()
    node = graph.get(dg.AssetKey(["smart_citizen", "citizens"]))
    assert node.group_name == "citizen_portal"
    assert node.tags["data_centre"] == "public"
    assert "postgres" in node.kinds
    assert graph.get(dg.AssetKey(["smart_aiml", "predictions"])).tags["data_centre"] == "restricted"
