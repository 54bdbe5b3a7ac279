"""Start-up recovery: carry on every run the log says is unfinished, classify every Job.

Runs before the API accepts anything (design invariant 4). The log has already been
folded; we list every Job carrying our labels in each namespace we manage and classify:

* **follow** — an unfinished run whose Job is still active: its task resumes following
  from the cursor in the log;
* **finish** — an unfinished run whose Job ended while we were down: its task drains the
  remaining output from the cursor and collects the result;
* **lost** — an unfinished run whose Job is gone: its task records a gap and finishes
  with ``k8s_job_deleted_externally``;
* **create** — a run recorded before its Job was known to exist: its task looks the
  deterministic name up (a 409 on create adopts it), so the Job is created exactly once;
* **pending** — a run that had not reached the guard yet: it starts from the guard;
* **done** — a Job of a run the log says finished (kept by retainJobs, or its cleanup was
  interrupted): left alone, the TTL removes it;
* **stray** — a Job with our labels that no run in this log accounts for: reported, and
  deleted only when ``delete_stray_jobs`` says so. (An orphan of the same
  agent+task+session is **adopted** later, when a new request for it arrives: the guard
  does that.)

Every unfinished run gets its task again through the same code path as a new run, so
there is one lifecycle, not two.
"""

from __future__ import annotations

import logging
from typing import Any

from supervisor import labels, runspec
from supervisor.engine.cluster import OUR_OBJECTS, Cluster
from supervisor.engine.supervisor import Supervisor
from supervisor.k8s import errors, manifests, pods

log = logging.getLogger(__name__)

CLASSES = ("follow", "finish", "lost", "create", "pending", "done", "stray", "stray_deleted")
# The request body was validated when it was accepted; on replay only its shape matters.
_REPLAY_PROMPT_LIMIT = 1 << 40


async def recover(sup: Supervisor) -> dict[str, int]:
    """Classify and relaunch; returns counts per class (recorded in supervisor.started)."""
    cluster = sup.cluster
    assert isinstance(cluster, Cluster)
    counts = dict.fromkeys(CLASSES, 0)
    unfinished = [run for run in sup.state.runs.values() if not run.terminal]
    namespaces = {cluster.default_namespace} | {r.namespace for r in unfinished if r.namespace}
    jobs: dict[tuple[str, str], dict[str, Any]] = {}
    for namespace in sorted(namespaces):
        try:
            listing = await cluster.kube.call("GET", f"/apis/batch/v1/namespaces/{namespace}/jobs",
                                              params={"labelSelector": OUR_OBJECTS})
        except errors.APIError as exc:
            # Unreachable cluster: runs still relaunch; their tasks wait for the API.
            log.warning("recovery: cannot list Jobs in %s: %s", namespace, exc)
            continue
        for job in listing.get("items", []):
            jobs[(namespace, job["metadata"]["name"])] = job

    accounted: set[tuple[str, str]] = set()
    for run in unfinished:
        key = (run.namespace, run.job_name)
        job = jobs.get(key)
        if run.job_name:
            accounted.add(key)
        if run.job_created:
            outcome = pods.job_outcome(job)[0]
            counts["follow" if outcome == "active" else "lost" if outcome == "gone" else "finish"] += 1
        elif run.job_name:
            counts["create"] += 1
        else:
            counts["pending"] += 1
        body = sup.request_of(run.run_id)
        if body is None:
            log.error("recovery: run %s has no recorded request; cannot relaunch", run.run_id)
            continue
        request = runspec.decode_run_request(body, max_prompt_bytes=_REPLAY_PROMPT_LIMIT)
        sup.launch(request)

    known_runs = {labels.sanitize_label_value(rid) for rid in sup.state.runs}
    for (namespace, name), job in jobs.items():
        if (namespace, name) in accounted:
            continue
        if manifests.job_run_id(job) in known_runs:
            counts["done"] += 1
            continue
        counts["stray"] += 1
        if cluster.settings.delete_stray_jobs:
            if await cluster.kube.delete_job(namespace, name, propagation="Background"):
                counts["stray_deleted"] += 1
        else:
            log.warning("recovery: stray Job %s/%s carries our labels but no run in this log "
                        "accounts for it (delete_stray_jobs is off)", namespace, name)
    return counts
