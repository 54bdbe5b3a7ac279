"""Trio tasks that turn observations into events: the writer, runs, recovery."""
