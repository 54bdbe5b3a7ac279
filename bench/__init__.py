"""Benchmarks: measured figures, never assertions."""
