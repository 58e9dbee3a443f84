"""The code location's executor: a run's steps execute in the run's own process unless configured.

Every asset step reads or writes the one DuckDB warehouse file, and DuckDB admits one writing
process at a time (``pipeline.warehouse`` queues them on a lock), so running steps in parallel
processes buys nothing; Dagster's default multiprocess executor still starts a fresh Python
process per step, which re-imports the code location and re-opens the instance — seconds of CPU
per step, more than most steps' own work (measured in bench/RESULTS.md). This is Dagster's own
``multi_or_in_process_executor`` with ``in_process`` as the default instead of ``multiprocess``;
the run config still selects either, as with the stock executor::

    execution:
      config:
        multiprocess:
          max_concurrent: 2
"""

import dagster as dg

_STOCK_SCHEMA = dg.multi_or_in_process_executor.config_schema.as_field()

in_process_by_default_executor = dg.multi_or_in_process_executor.configured(
    lambda config: config,
    config_schema=dg.Field(_STOCK_SCHEMA.config_type, default_value={"in_process": {}}, is_required=False),
    description="Runs every step in the run's process unless the run config selects multiprocess.",
)
