from pipeline.defs.checks_all import STAGING_CHECKS as asset_checks  # noqa
