"""The project's component types, as ``dg list components`` shows them."""

from pipeline.components.warehouse_table import WarehouseTable

__all__ = ["WarehouseTable"]
