from pipeline.defs.checks_all import MART_CHECKS as asset_checks  # noqa
