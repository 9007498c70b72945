"""Analytics: snapshots of the analytic tables to Parquet (and, later, the indicator engine)."""
