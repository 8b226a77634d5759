"""ML layer: what the warehouse hands to model training (files, not tables)."""
