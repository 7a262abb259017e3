"""Pure computations over the canonical model."""
