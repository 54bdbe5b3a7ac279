"""The Job controller: pods for Jobs, and Job status as kubectl 1.37 shows it.

Level-triggered like the real one: any change to a Job or to a pod it owns marks the Job
dirty, and ``reconcile`` works out what to do from what is stored. Per Job it:

* creates a pod from the template (``<job>-<suffix>``, the job-name / controller-uid labels,
  an owner reference), and after a failure creates a new one while ``failed <= backoffLimit``,
  waiting 10 s, 20 s, 40 s … (Trio clock) in between, as the real back-off does;
* counts each finished pod once (``succeeded``/``failed``); a pod that vanishes before
  finishing counts as failed;
* on success adds ``SuccessCriteriaMet``, then ``Complete`` with ``completionTime`` once no
  pod is left running; on failure (``BackoffLimitExceeded`` or ``DeadlineExceeded`` past
  ``activeDeadlineSeconds``) adds ``FailureTarget``, deletes the running pods, then adds
  ``Failed`` once they are gone;
* deletes the Job (foreground, so its pods and owned Secrets go first)
  ``ttlSecondsAfterFinished`` after it finished.

Deadlines, back-off and TTL run on the Trio clock, so ``autojump_clock`` makes them instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trio

from kubesim import admission, errors, kube_events, meta, pod_status, resources, timefmt
from kubesim.deletion import Deleter
from kubesim.store import Change, Obj, Store, clone

BACKOFF_BASE_SECONDS = 10.0
BACKOFF_MAX_SECONDS = 360.0
COMPONENT = "job-controller"

_MESSAGES = {
    "BackoffLimitExceeded": "Job has reached the specified backoff limit",
    "DeadlineExceeded": "Job was active longer than specified deadline",
    "CompletionsReached": "Reached expected number of succeeded pods",
}


@dataclass
class _Tracking:
    """What the controller remembers about one Job between reconciles."""

    started_at: float
    counted: set[str] = field(default_factory=set)
    live: set[str] = field(default_factory=set)
    last_failure_at: float | None = None
    finished_at: float | None = None
    timers: set[float] = field(default_factory=set)


def _condition(job: Obj, kind: str) -> Obj | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition["type"] == kind and condition["status"] == "True":
            return dict(condition)
    return None


def _add_condition(status: Obj, kind: str, reason: str) -> None:
    conditions = status.setdefault("conditions", [])
    if any(c["type"] == kind for c in conditions):
        return
    now = timefmt.now_seconds()
    conditions.append({
        "type": kind, "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
        "reason": reason, "message": _MESSAGES[reason],
    })


class JobController:
    """Runs every Job in the store."""

    def __init__(self, store: Store, deleter: Deleter, names: meta.Names) -> None:
        self._store = store
        self._deleter = deleter
        self._names = names
        self._dirty: set[tuple[str, str]] = set()
        self._wake = trio.Event()
        self._tracking: dict[str, _Tracking] = {}
        self._nursery: trio.Nursery | None = None

    def __repr__(self) -> str:
        return f"<JobController jobs={len(self._tracking)} dirty={len(self._dirty)}>"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Reconcile Jobs until cancelled."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._store.add_listener(self._on_change)
            for job in self._store.list(resources.JOBS):
                self._mark(job["metadata"]["namespace"], job["metadata"]["name"])
            task_status.started()
            while True:
                await self._wake.wait()
                self._wake = trio.Event()
                dirty, self._dirty = self._dirty, set()
                for namespace, name in sorted(dirty):
                    self.reconcile(namespace, name)

    def _mark(self, namespace: str, name: str) -> None:
        self._dirty.add((namespace, name))
        self._wake.set()

    def _on_change(self, change: Change) -> None:
        if change.resource is resources.JOBS:
            if change.type == "DELETED":
                self._tracking.pop(change.object()["metadata"]["uid"], None)
                return
            self._mark(change.namespace, change.name)
        elif change.resource is resources.PODS:
            for ref in change.object()["metadata"].get("ownerReferences") or []:
                if ref.get("kind") == "Job" and ref.get("controller"):
                    self._mark(change.namespace, ref["name"])

    def _wake_at(self, namespace: str, name: str, tracking: _Tracking, when: float) -> None:
        if when in tracking.timers or self._nursery is None:
            return
        tracking.timers.add(when)

        async def sleeper() -> None:
            await trio.sleep_until(when)
            tracking.timers.discard(when)
            self._mark(namespace, name)

        self._nursery.start_soon(sleeper)

    # -- reconcile -----------------------------------------------------------------------------

    def reconcile(self, namespace: str, name: str) -> None:
        """Bring one Job's pods and status in line with its spec."""
        job = self._store.get(resources.JOBS, namespace, name)
        if job is None:
            return
        uid = job["metadata"]["uid"]
        if meta.is_deleting(job):
            return
        now = trio.current_time()
        tracking = self._tracking.setdefault(uid, _Tracking(started_at=now))
        spec, status = job["spec"], clone(job.get("status") or {})
        pods = self._store.select(
            resources.PODS, namespace, lambda pod: uid in meta.owner_uids(pod)
        )
        restarts = self._count_finished(status, pods, tracking, now)
        active = [p for p in pods if not pod_status.is_terminal(p) and not meta.is_deleting(p)]
        terminating = [p for p in pods if not pod_status.is_terminal(p) and meta.is_deleting(p)]
        finished = bool(_condition(job, "Complete") or _condition(job, "Failed"))
        if not finished:
            if "startTime" not in status:
                status["startTime"] = timefmt.now_seconds()
            finished = self._advance(job, status, active, terminating, tracking, now, restarts)
        if finished:
            if tracking.finished_at is None:
                tracking.finished_at = now
            ttl = spec.get("ttlSecondsAfterFinished")
            if ttl is not None:
                if now >= tracking.finished_at + ttl:
                    self._expire(job)
                    return
                self._wake_at(namespace, name, tracking, tracking.finished_at + ttl)
        status["active"] = len(active)
        status["ready"] = sum(1 for pod in active if pod_status.is_ready(pod))
        status["terminating"] = len(terminating)
        status["uncountedTerminatedPods"] = {}
        for counter in ("active", "succeeded", "failed"):
            if not status.get(counter):
                status.pop(counter, None)

        def write(obj: Obj) -> None:
            if obj["metadata"]["uid"] == uid:
                obj["status"] = status

        self._store.update(resources.JOBS, namespace, name, write)

    def _count_finished(self, status: Obj, pods: list[Obj], tracking: _Tracking,
                        now: float) -> int:
        """Count newly finished (or vanished) pods; returns restarts that count as failures."""
        present = set()
        restarts_on_failure = 0
        for pod in pods:
            pod_uid = pod["metadata"]["uid"]
            present.add(pod_uid)
            phase = pod["status"].get("phase")
            if pod_uid in tracking.counted:
                continue
            if phase == "Succeeded":
                status["succeeded"] = status.get("succeeded", 0) + 1
                tracking.counted.add(pod_uid)
            elif phase == "Failed":
                status["failed"] = status.get("failed", 0) + 1
                tracking.counted.add(pod_uid)
                tracking.last_failure_at = now
            else:
                tracking.live.add(pod_uid)
                if pod["spec"].get("restartPolicy") == "OnFailure":
                    restarts_on_failure += sum(
                        entry.get("restartCount", 0)
                        for entry in pod["status"].get("containerStatuses") or []
                    )
        for vanished in tracking.live - present:
            if vanished not in tracking.counted:
                status["failed"] = status.get("failed", 0) + 1
                tracking.counted.add(vanished)
                tracking.last_failure_at = now
        tracking.live &= present
        return restarts_on_failure

    def _advance(
        self, job: Obj, status: Obj, active: list[Obj], terminating: list[Obj],
        tracking: _Tracking, now: float, restarts: int,
    ) -> bool:
        """Move an unfinished Job on; returns True when it has just finished."""
        spec = job["spec"]
        namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
        completions = spec.get("completions", 1)
        if status.get("succeeded", 0) >= completions:
            _add_condition(status, "SuccessCriteriaMet", "CompletionsReached")
            if active or terminating:
                return False
            _add_condition(status, "Complete", "CompletionsReached")
            status["completionTime"] = timefmt.now_seconds()
            kube_events.record(self._store, self._names, job, reason="Completed",
                               message="Job completed", component=COMPONENT)
            return True
        failing = _condition({"status": status}, "FailureTarget")
        if failing is None:
            reason = None
            if status.get("failed", 0) + restarts > spec.get("backoffLimit", 6):
                reason = "BackoffLimitExceeded"
            deadline = spec.get("activeDeadlineSeconds")
            if reason is None and deadline is not None:
                if now >= tracking.started_at + deadline:
                    reason = "DeadlineExceeded"
                else:
                    self._wake_at(namespace, name, tracking, tracking.started_at + deadline)
            if reason is not None:
                _add_condition(status, "FailureTarget", reason)
                kube_events.record(self._store, self._names, job, reason=reason,
                                   message=_MESSAGES[reason], component=COMPONENT,
                                   warning=True)
                failing = {"reason": reason}
        if failing is not None:
            for pod in active:
                self._delete_pod(job, pod)
            if active or terminating:
                return False
            _add_condition(status, "Failed", failing["reason"])
            return True
        if not active and not terminating and not spec.get("suspend"):
            self._create_pod_after_backoff(job, status, tracking, now)
        return False

    def _create_pod_after_backoff(self, job: Obj, status: Obj, tracking: _Tracking,
                                  now: float) -> None:
        failed = status.get("failed", 0)
        if failed and tracking.last_failure_at is not None:
            delay = min(BACKOFF_BASE_SECONDS * 2 ** (failed - 1), BACKOFF_MAX_SECONDS)
            ready_at = tracking.last_failure_at + delay
            if now < ready_at:
                meta_ = job["metadata"]
                self._wake_at(meta_["namespace"], meta_["name"], tracking, ready_at)
                return
        self._create_pod(job, tracking)

    def _create_pod(self, job: Obj, tracking: _Tracking) -> None:
        namespace = job["metadata"]["namespace"]
        template = clone(job["spec"]["template"])
        template_meta = template.get("metadata") or {}
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": f"{job['metadata']['name']}-",
                "labels": template_meta.get("labels") or {},
                "ownerReferences": [meta.owner_reference(job)],
            },
            "spec": template["spec"],
        }
        if template_meta.get("annotations"):
            pod["metadata"]["annotations"] = template_meta["annotations"]
        taken = {key[2] for key in self._store.names(resources.PODS, namespace)}
        meta.prepare_new(resources.PODS, pod, namespace=namespace, names=self._names, taken=taken)
        created = self._store.create(resources.PODS, admission.admit_pod(pod))
        tracking.live.add(created["metadata"]["uid"])
        kube_events.record(
            self._store, self._names, job, reason="SuccessfulCreate",
            message=f"Created pod: {created['metadata']['name']}", component=COMPONENT,
        )

    def _delete_pod(self, job: Obj, pod: Obj) -> None:
        try:
            self._deleter.delete(resources.PODS, pod["metadata"]["namespace"],
                                 pod["metadata"]["name"])
        except errors.NotFound:
            return
        kube_events.record(
            self._store, self._names, job, reason="SuccessfulDelete",
            message=f"Deleted pod: {pod['metadata']['name']}", component=COMPONENT,
        )

    def _expire(self, job: Obj) -> None:
        meta_ = job["metadata"]
        try:
            self._deleter.delete(resources.JOBS, meta_["namespace"], meta_["name"],
                                 propagation="Foreground", expected_uid=meta_["uid"])
        except (errors.NotFound, errors.Conflict):
            pass
        self._tracking.pop(meta_["uid"], None)
