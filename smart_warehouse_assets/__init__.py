"""smart-warehouse: the SMART platform's analytical warehouse as Dagster assets."""

import warnings

# BackfillPolicy, multi_observable_source_asset and include_sources are marked beta in
# Dagster 1.13 yet are the current way to run a backfill as one run and to observe
# portal tables; their beta notices would only repeat on every command.
warnings.filterwarnings("ignore", message=r".*is currently in beta.*")
