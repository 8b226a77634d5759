"""Synthetic portal data: ``seed`` fills the four portal databases with a reproducible
world; ``simulate`` advances it day by day."""

from smart_warehouse_assets.synthetic.core import SyntheticDataError
from smart_warehouse_assets.synthetic.generator import seed
from smart_warehouse_assets.synthetic.simulator import simulate

__all__ = ["SyntheticDataError", "seed", "simulate"]
