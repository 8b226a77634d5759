"""smart-warehouse: the SMART platform's analytical warehouse as Dagster assets."""
