"""Synthetic portal data: ``seed`` fills the four portal databases with a reproducible
world; ``simulate`` advances it day by day."""

from smart_warehouse_assets.synthetic.core import PortalsHoldData, SyntheticDataError
from smart_warehouse_assets.synthetic.seeding import seed, world_mismatch
from smart_warehouse_assets.synthetic.simulator import simulate

__all__ = ["PortalsHoldData", "SyntheticDataError", "seed", "simulate", "world_mismatch"]
