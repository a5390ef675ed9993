"""A tiny library: its locks are the example."""
