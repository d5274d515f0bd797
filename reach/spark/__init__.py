"""reach on Spark: the same compiled network over a Spark DataFrame of flow-log records (see engine.py)."""

from reach.spark.engine import reconcile_spark

__all__ = ["reconcile_spark"]
