from pipeline.defs.checks_all import RAW_CHECKS as asset_checks  # noqa
