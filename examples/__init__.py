"""Example pipelines for nbflow."""
