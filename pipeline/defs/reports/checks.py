from pipeline.defs.checks_all import REPORT_CHECKS as asset_checks  # noqa
