"""Benchmarks: measured figures, never assertions. ``python -m bench`` prints them as one table.

Groups (``--only NAME``):

* ``events`` — append throughput and latency, group commit, state-only replay, replay time as
  the log grows (:mod:`bench.events_bench`, logs from :mod:`bench.synthetic`);
* ``follow`` — one run's output through the daemon against kubesim's raw rate, and latency
  from the pod printing a line to a socket client (:mod:`bench.follow_bench`);
* ``fleet`` — 10, 50 and 200 simultaneous runs: memory, CPU, keepalive jitter, Kubernetes API
  requests, log growth (:mod:`bench.fleet_bench`);
* ``recovery`` — SIGKILL with live runs, time until all are followed again
  (:mod:`bench.recovery_bench`).

The measured system (kubesim and the daemon, each its own process) is in :mod:`bench.rig`.
"""
