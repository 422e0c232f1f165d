"""Thin shells that drive the sans-I/O cores: worker threads, clocks and sources."""
