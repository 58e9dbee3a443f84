"""An empty code location: the baseline for ``dagster definitions validate`` (Dagster's own load)."""

import dagster as dg

defs = dg.Definitions()
