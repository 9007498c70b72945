"""Indicators: definitions as data, computed over the Parquet snapshot, results stored."""
