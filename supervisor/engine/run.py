"""One run, from request to result, against the Kubernetes API.

``drive_run`` is the run's task. It reads where the run stands from the fold, so the
same code starts a new run and carries on a recovered one after a restart: a run whose
Job is not yet recorded as created goes through the guard and the (idempotent) create;
a run with a Job is supervised — pod wait, log follow, keepalive, completion — from the
cursor in the log. Every fact is appended before it is acted on.

Steps (reference §1, with its defects fixed):
 1. guard: per-agent lock, list the agent's Jobs, fail closed, classify orphans;
 2. create: prompt Secret if large, the Job (409 on our deterministic name = adopt);
 3. wait for the pod, with diagnostics appended as they change;
 4. follow output (pod-log API or the tee file) into ``log.chunk`` events;
 5. keepalive ticks while the run lives;
 6. completion: Job conditions, the adapter deadline, Job gone, state mismatch;
    the claude container's exit code is read before anything is deleted;
 7. classify the output, then clean up (unless retained), then finish.
Cancel: recorded first (by the API), then the Job is deleted; the follower drains what
was printed and the run finishes ``cancelled``. Daemon shutdown cancels this task: it
stops following and never deletes anything.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import time
from pathlib import Path
from typing import Any

import msgspec
import trio

from events import state as events_state
from events import types
from supervisor import bundle, classify, config, guard, labels, streamjson
from supervisor.engine.cluster import Cluster
from supervisor.engine.follow import ApiLogFollower, FileLogFollower, FollowResult
from supervisor.engine.supervisor import RunHandle, Supervisor
from supervisor.errorcodes import ErrorCode
from supervisor.k8s import errors, manifests, pods

log = logging.getLogger(__name__)

CONTAINER = manifests.CONTAINER_CLAUDE
# After the Job is terminal, how long the follower may take to drain before we stop it.
DRAIN_GRACE_SECONDS = 30.0
# A Job still "active" this long after its container exited is re-checked directly.
RECHECK_SECONDS = 60.0
# Attempts to read the container's terminated state when the pod says it finished.
EXIT_READ_ATTEMPTS = 4
EXIT_READ_DELAY = 0.5

_PHASE_OF: dict[str, str] = {
    ErrorCode.CANCELLED: events_state.CANCELLED,
    ErrorCode.K8S_JOB_DELETED_EXTERNALLY: events_state.LOST,
}


def _volume_relpath(pod_path: str | None, mount_path: str) -> str | None:
    """A pod-side path on the workspace volume relative to the volume's root; None when it is
    not under ``mount_path``."""
    if not pod_path:
        return None
    relative = posixpath.relpath(pod_path, mount_path)
    return None if relative == ".." or relative.startswith("../") else relative


async def drive_run(sup: Supervisor, handle: RunHandle) -> None:
    """The run's task (injected into :class:`Supervisor` by the daemon)."""
    cluster = sup.cluster
    assert isinstance(cluster, Cluster), "the supervisor has no cluster attached"
    await _Run(sup, cluster, handle).main()


class _Finished(Exception):
    """The run reached its end on a path that already appended its result."""


class _Run:
    def __init__(self, sup: Supervisor, cluster: Cluster, handle: RunHandle) -> None:
        self.sup = sup
        self.cluster = cluster
        self.kube = cluster.kube
        self.handle = handle
        self.request = handle.request
        self.run_id = handle.run_id
        self.parser = streamjson.TranscriptParser()
        self.tee_path: str | None = None
        self.timed_out = False
        self.job_gone = False
        self.gone_details: list[str] = []
        self.mismatch = False
        self.failure: classify.Failure | None = None
        self.pod_seen: dict[str, Any] | None = None

    # --- helpers -----------------------------------------------------------------

    @property
    def state(self) -> events_state.RunState:
        return self.sup.run_state(self.run_id)

    async def emit(self, event: types.Event, data: bytes | None = None) -> int:
        return await self.sup.writer.append(event, data)

    def now(self) -> float:
        return time.time()

    async def finish_early(self, code: ErrorCode, message: str) -> None:
        """End a run that never got a Job (or lost it before the pod): result + finish."""
        phase = _PHASE_OF.get(code, events_state.FAILED)
        await self.emit(types.ResultParsed(run_id=self.run_id, ts=self.now(), error_code=code,
                                           error_message=message))
        await self.emit(types.RunFinished(run_id=self.run_id, ts=self.now(), phase=phase,
                                          error_code=code, error_message=message))
        raise _Finished

    # --- the task ----------------------------------------------------------------

    async def main(self) -> None:
        if self.state.terminal:
            return
        try:
            try:
                agent = config.resolve_agent_config(self.cluster.settings,
                                                    self.request.agent_overrides())
            except config.ConfigError as exc:
                await self.finish_early(ErrorCode.SUPERVISOR_ERROR, f"invalid configuration: {exc}")
                return
            if self.state.result is not None:
                await self.cleanup_and_finish(agent)  # crashed between result and finish
                return
            if not self.state.job_created:
                if self.state.cancel_requested or self.handle.cancel_requested.is_set():
                    await self.cancel_before_job()
                await self.launch(agent)
            await self.supervise(agent)
        except _Finished:
            return

    # --- 1-2: guard and create -----------------------------------------------------

    def namespace_for(self, agent: config.AgentConfig) -> str:
        return agent.namespace or self.cluster.default_namespace

    async def launch(self, agent: config.AgentConfig) -> None:
        namespace = self.namespace_for(agent)
        async with self.sup.agent_lock(self.request.agent.id):
            if not self.state.job_name:  # no creation intent recorded yet: run the guard
                decision = await self.check_guard(agent, namespace)
                if isinstance(decision, guard.Reattach):
                    await self.adopt(decision, namespace, agent)
                    return
            await self.create(agent, namespace)

    async def check_guard(self, agent: config.AgentConfig, namespace: str) -> guard.Decision:
        agent_label = labels.sanitize_label_value(self.request.agent.id) or ""
        selector = (f"{labels.LABEL_AGENT_ID}={agent_label},"
                    f"{labels.LABEL_ADAPTER_TYPE}={labels.ADAPTER_TYPE}")
        try:
            listing = await self.kube.list_jobs(namespace, selector)
        except errors.APIError as exc:
            await self.emit(types.GuardChecked(run_id=self.run_id, ts=self.now(),
                                               decision="unreachable", reason=str(exc)))
            await self.finish_early(ErrorCode.K8S_CONCURRENCY_GUARD_UNREACHABLE,
                                    f"Concurrency guard unreachable: {exc.message}")
        items = listing.get("items", [])
        decision = guard.decide(items, run_id=self.run_id, task_key=self.request.task_key,
                                session_id=self.request.session_id,
                                reattach_orphaned_jobs=agent.reattach_orphaned_jobs)
        names = [str(j.get("metadata", {}).get("name", "")) for j in items]
        if isinstance(decision, guard.Block):
            await self.emit(types.GuardChecked(run_id=self.run_id, ts=self.now(), decision="block",
                                               jobs_seen=names, reason=decision.message))
            await self.finish_early(ErrorCode(decision.code), decision.message)
        if isinstance(decision, guard.Reattach):
            await self.emit(types.GuardChecked(run_id=self.run_id, ts=self.now(),
                                               decision="reattach", jobs_seen=names,
                                               target_job=decision.job_name))
        else:
            await self.emit(types.GuardChecked(run_id=self.run_id, ts=self.now(),
                                               decision="proceed", jobs_seen=names))
        return decision

    async def adopt(self, target: guard.Reattach, namespace: str,
                    agent: config.AgentConfig) -> None:
        ns = target.namespace or namespace
        patch = manifests.reattach_patch(run_id=self.run_id, session_id=self.request.session_id)
        try:
            await self.kube.call("PATCH", f"/apis/batch/v1/namespaces/{ns}/jobs/{target.job_name}",
                                 body=patch.body, content_type=patch.content_type)
        except errors.APIError as exc:
            log.warning("run %s: failed to relabel reattached Job %s: %s", self.run_id,
                        target.job_name, exc)
        # The Job names its tee file as the pod sees it; the daemon reads the volume under its
        # own mount, so keep the path relative to the volume's root (recorded for restarts).
        self.tee_path = _volume_relpath(target.tee_log_path, agent.workspace_mount_path)
        await self.emit(types.RunReattached(run_id=self.run_id, ts=self.now(),
                                            job_name=target.job_name, namespace=ns, mode="adopt",
                                            prior_run_id=target.prior_run_id or "",
                                            log_path=self.tee_path or ""))

    async def create(self, agent: config.AgentConfig, namespace: str) -> None:
        try:
            prompt_bundle = await self.prepare_bundle(agent)
            built = manifests.build_job(manifests.JobSpec(
                request=self.request, agent=agent, self_pod=self.cluster.self_pod,
                default_namespace=namespace, bundle=prompt_bundle,
                run_log_dir=self.cluster.settings.run_log_dir))
        except (manifests.ManifestError, bundle.BundleError, OSError) as exc:
            await self.finish_early(ErrorCode.K8S_JOB_CREATE_FAILED,
                                    f"Failed to build the Kubernetes Job: {exc}")
            return
        secret_name = built.prompt_secret["metadata"]["name"] if built.prompt_secret else ""
        digest = hashlib.sha256(msgspec.json.encode(built.job)).hexdigest()[:16]
        self.tee_path = built.tee_log_relpath
        if not self.state.job_name:
            await self.emit(types.ManifestBuilt(
                run_id=self.run_id, ts=self.now(), job_name=built.job_name,
                namespace=built.namespace, secret_name=secret_name,
                log_path=built.tee_log_relpath or "", claude_args=list(built.claude_args),
                skipped_labels=[f"{s.key}: {s.reason}" for s in built.skipped_labels],
                manifest_digest=digest))
        if built.prompt_secret is not None:
            try:
                await self.kube.create_secret(built.namespace, built.prompt_secret)
            except errors.AlreadyExists:
                pass  # an earlier attempt made it (same name, same content)
            except errors.APIError as exc:
                await self.finish_early(ErrorCode.K8S_PROMPT_SECRET_CREATE_FAILED,
                                        f"Failed to create prompt Secret: {exc.message}")
            await self.emit(types.SecretCreated(run_id=self.run_id, ts=self.now(),
                                                name=secret_name, namespace=built.namespace,
                                                size_bytes=built.prompt_bytes))
        try:
            created = await self.kube.create_job(built.namespace, built.job)
            adopted = False
        except errors.AlreadyExists:
            try:
                created = await self.kube.get_job(built.namespace, built.job_name)
            except errors.APIError as exc:  # gone again, or unreadable: not ours to adopt
                await self.fail_create(built, secret_name, f"409 on create, then {exc.message}",
                                       status=exc.status)
                return
            if manifests.job_run_id(created) != labels.sanitize_label_value(self.run_id):
                await self.fail_create(built, secret_name, "a Job with this name belongs to another run")
            adopted = True
        except errors.APIError as exc:
            await self.fail_create(built, secret_name, exc.message, status=exc.status)
            return
        uid = str(created.get("metadata", {}).get("uid", ""))
        await self.emit(types.JobCreated(run_id=self.run_id, ts=self.now(), job_name=built.job_name,
                                         namespace=built.namespace, uid=uid, adopted=adopted))
        if secret_name and uid:
            patch = manifests.secret_owner_patch(job_name=built.job_name, job_uid=uid)
            try:
                await self.kube.call("PATCH", f"/api/v1/namespaces/{built.namespace}/secrets/{secret_name}",
                                     body=patch.body, content_type=patch.content_type)
            except errors.APIError as exc:
                log.warning("run %s: could not make the prompt Secret owned by its Job: %s",
                            self.run_id, exc)

    async def fail_create(self, built: manifests.BuiltJob, secret_name: str, message: str, *,
                          status: int = 0) -> None:
        await self.emit(types.JobCreateFailed(run_id=self.run_id, ts=self.now(),
                                              job_name=built.job_name,
                                              error_code=ErrorCode.K8S_JOB_CREATE_FAILED,
                                              message=message, status=status))
        if secret_name:
            await self.delete_quietly("secret", built.namespace, secret_name)
        await self.finish_early(ErrorCode.K8S_JOB_CREATE_FAILED,
                                f"Failed to create Kubernetes Job: {message}")

    async def prepare_bundle(self, agent: config.AgentConfig) -> bundle.PromptBundle | None:
        if self.request.instructions is None and not self.request.skills:
            return None
        host_root = self.cluster.settings.shared_volume_host_dir
        if not host_root:
            raise bundle.BundleError(
                "instructions/skills need `shared_volume_host_dir` (where the daemon sees the "
                "workspace volume)")
        return await trio.to_thread.run_sync(lambda: bundle.prepare_bundle(
            host_root=Path(host_root), pod_root=agent.workspace_mount_path,
            bundle_dir=self.cluster.settings.bundle_dir,
            instructions=self.request.instructions, skills=self.request.skills))

    async def cancel_before_job(self) -> None:
        """Cancelled before any Job was recorded: make sure none exists, then finish."""
        if self.state.job_name:
            await self.delete_quietly("job", self.state.namespace, self.state.job_name)
        await self.finish_early(ErrorCode.CANCELLED, "Run cancelled before its Job started")

    # --- 3-6: supervise ------------------------------------------------------------

    async def supervise(self, agent: config.AgentConfig) -> None:
        namespace, job_name = self.state.namespace, self.state.job_name
        if self.tee_path is None and self.state.log_path:
            self.tee_path = self.state.log_path
        jobs = self.cluster.jobs(namespace)
        pod_informer = self.cluster.pods(namespace)
        await jobs.synced.wait()
        await pod_informer.synced.wait()
        follow_done = trio.Event()
        follow_result: list[FollowResult] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.keepalive_loop, namespace, job_name)
            nursery.start_soon(self.cancel_watch, namespace, job_name)
            pod_name = await self.wait_for_pod(namespace, job_name)
            if pod_name is not None:
                nursery.start_soon(self.follow, agent, namespace, pod_name, follow_done, follow_result)
            else:
                follow_done.set()
            outcome = await self.wait_for_completion(agent, namespace, job_name, pod_name)
            with trio.move_on_after(DRAIN_GRACE_SECONDS):
                await follow_done.wait()
            if not follow_done.is_set():
                await self.emit(types.OutputGap(
                    run_id=self.run_id, ts=self.now(),
                    reason=f"log stream did not drain within {DRAIN_GRACE_SECONDS:.0f}s of the Job ending",
                    from_time=self.state.cursor.time))
            elif follow_result and follow_result[0].outcome == "incomplete":
                await self.emit(types.OutputGap(
                    run_id=self.run_id, ts=self.now(), reason=follow_result[0].detail,
                    from_time=self.state.cursor.time))
            elif (follow_result and follow_result[0].outcome == "source_gone"
                  and self.cluster.settings.log_source == "file" and self.tee_path):
                # The tee file vanished mid-run: whatever the pod wrote after is lost.
                await self.emit(types.OutputGap(
                    run_id=self.run_id, ts=self.now(), reason=follow_result[0].detail,
                    from_time=self.state.cursor.time))
            elif follow_result and follow_result[0].outcome == "source_gone" and outcome == "gone":
                await self.emit(types.OutputGap(
                    run_id=self.run_id, ts=self.now(),
                    reason="pod deleted before all its output could be read",
                    from_time=self.state.cursor.time))
            elif pod_name is None and outcome == "gone" and self.state.cursor.time:
                await self.emit(types.OutputGap(
                    run_id=self.run_id, ts=self.now(), reason="Job and pod gone while unfollowed",
                    from_time=self.state.cursor.time))
            await self.record_exit(namespace, pod_name)
            nursery.cancel_scope.cancel(reason="run finished")
        await self.conclude(agent)

    def pod_of(self, namespace: str, job_name: str) -> dict[str, Any] | None:
        candidates = [p for p in self.cluster.pods(namespace).objects.values()
                      if (p.get("metadata", {}).get("labels") or {}).get("job-name") == job_name]
        return pods.newest(candidates)

    def job_outcome(self, namespace: str, job_name: str) -> str:
        return pods.job_outcome(self.cluster.jobs(namespace).get(job_name))[0]

    async def wait_for_pod(self, namespace: str, job_name: str) -> str | None:
        """The pod's name once it can be followed; None if the run cannot get one."""
        reattaching = self.state.reattached > 0 or self.state.phase == events_state.RUNNING
        timeout = self.cluster.settings.pod_schedule_timeout_sec
        last_detail = self.state.pod_detail
        with trio.move_on_after(timeout) as deadline:
            while True:
                seen = self.cluster.version(namespace)
                pod = self.pod_of(namespace, job_name)
                outcome = self.job_outcome(namespace, job_name)
                if pod is not None:
                    name = pod["metadata"]["name"]
                    detail = pods.describe(pod)
                    if detail != last_detail:
                        last_detail = detail
                        await self.emit(types.PodPending(run_id=self.run_id, ts=self.now(),
                                                         pod_name=name, detail=detail))
                    problem = pods.failure(pod, CONTAINER)
                    if pods.streamable(pod, CONTAINER) or pods.container_done(pod, CONTAINER):
                        if self.state.pod_name != name or self.state.phase != events_state.RUNNING:
                            await self.emit(types.PodRunning(run_id=self.run_id, ts=self.now(),
                                                             pod_name=name))
                        return str(name)
                    if problem is not None:
                        await self.pod_failed(pod, problem, reattaching)
                        return None
                if outcome != "active":
                    if outcome == "gone":
                        await self.confirm_gone(namespace, job_name, "pod-wait")
                        if not self.job_gone:
                            await self.cluster.wait_change(namespace, seen)
                            continue
                    if pod is None:
                        pod = await self.find_pod(namespace, job_name)
                    if pod is not None:
                        # The Job's watch can run ahead of the pod's: the Job is over while
                        # the cached pod still looks pending (or is not cached yet). Ask the
                        # API server before concluding the container never ran, or its output
                        # goes unread.
                        fresh = await self.read_pod(namespace, str(pod["metadata"]["name"]))
                        if fresh is not None and (pods.streamable(fresh, CONTAINER)
                                                  or pods.container_done(fresh, CONTAINER)):
                            await self.emit(types.PodRunning(run_id=self.run_id, ts=self.now(),
                                                             pod_name=fresh["metadata"]["name"]))
                            return str(fresh["metadata"]["name"])
                    return None
                if self.handle.cancel_requested.is_set():
                    return None
                await self.cluster.wait_change(namespace, seen)
        assert deadline.cancelled_caught
        message = f"Timed out waiting for pod to be scheduled ({timeout:.0f}s)"
        pod = self.pod_of(namespace, job_name)
        await self.emit(types.PodFailed(run_id=self.run_id, ts=self.now(),
                                        pod_name=(pod or {}).get("metadata", {}).get("name", ""),
                                        reason="Timeout", message=message))
        code = ErrorCode.K8S_POD_REATTACH_FAILED if reattaching else ErrorCode.K8S_POD_SCHEDULE_FAILED
        self.failure = classify.Failure(code=code, message=f"Pod scheduling failed: {message}")
        await self.delete_quietly("job", namespace, job_name)
        return None

    async def find_pod(self, namespace: str, job_name: str) -> dict[str, Any] | None:
        """The Job's newest pod as the API server lists it (None: none, or unreadable)."""
        try:
            listing = await self.kube.list_pods(namespace, f"job-name={job_name}")
        except errors.APIError:
            return None
        return pods.newest(listing.get("items") or [])

    async def read_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The pod as the API server has it now (None: gone or unreadable)."""
        try:
            return await self.kube.get_pod(namespace, name)
        except errors.APIError:
            return None

    async def pod_failed(self, pod: dict[str, Any], problem: str, reattaching: bool) -> None:
        term = pods.terminated(pod, CONTAINER) or {}
        await self.emit(types.PodFailed(run_id=self.run_id, ts=self.now(),
                                        pod_name=pod["metadata"]["name"],
                                        reason=str(pod.get("status", {}).get("reason") or ""),
                                        message=problem, exit_code=term.get("exitCode")))
        what = "reattach" if reattaching else "scheduling"
        code = ErrorCode.K8S_POD_REATTACH_FAILED if reattaching else ErrorCode.K8S_POD_SCHEDULE_FAILED
        self.failure = classify.Failure(code=code, message=f"Pod {what} failed: {problem}")
        self.pod_seen = pod
        # The pod can never run: stop the Job now rather than at its deadline.
        await self.delete_quietly("job", self.state.namespace, self.state.job_name)

    async def follow(self, agent: config.AgentConfig, namespace: str, pod_name: str,
                     done: trio.Event, result: list[FollowResult]) -> None:
        await self.replay_transcript()

        def container_done() -> bool:
            return pods.container_done(self.cluster.pods(namespace).get(pod_name), CONTAINER)

        try:
            if self.cluster.settings.log_source == "file" and self.tee_path:
                host_root = self.cluster.settings.shared_volume_host_dir or ""
                follower: ApiLogFollower | FileLogFollower = FileLogFollower(
                    writer=self.sup.writer, run_id=self.run_id,
                    path=os.path.join(host_root, self.tee_path), cursor=self.state.cursor,
                    container_done=container_done, on_lines=self.parser.feed,
                    settings=self.cluster.follow)
            else:
                follower = ApiLogFollower(
                    kube=self.kube, writer=self.sup.writer, run_id=self.run_id,
                    namespace=namespace, pod=pod_name, container=CONTAINER,
                    cursor=self.state.cursor, container_done=container_done,
                    on_lines=self.parser.feed, settings=self.cluster.follow)
            result.append(await follower.run())
        finally:
            done.set()

    async def replay_transcript(self) -> None:
        """After a restart, feed the parser what the log already holds of this run."""
        if self.state.output_lines == 0:
            return
        chunks = await trio.to_thread.run_sync(
            lambda: self.sup.log.read(0, run_id=self.run_id, kinds=("log.chunk",)))
        for stored in chunks:
            self.parser.feed(streamjson.split_lines(stored.data or b""))

    async def wait_for_completion(self, agent: config.AgentConfig, namespace: str, job_name: str,
                                  pod_name: str | None) -> str:
        """Wait for the Job to end; returns its outcome and appends ``job.terminal``."""
        if self.failure is not None:
            await self.emit(types.JobTerminal(run_id=self.run_id, ts=self.now(), outcome="failed",
                                              reason="PodFailed", message=self.failure.message))
            return "failed"
        deadline = float("inf")
        if agent.timeout_sec > 0:
            started = self.state.created_at
            deadline = trio.current_time() + max(
                0.0, started + agent.timeout_sec + agent.grace_sec - self.now())
        container_exited_at: float | None = None
        with trio.move_on_at(deadline) as adapter_deadline:
            while True:
                seen = self.cluster.version(namespace)
                job = self.cluster.jobs(namespace).get(job_name)
                outcome, reason, message = pods.job_outcome(job)
                if outcome == "gone":
                    await self.confirm_gone(namespace, job_name, "completion-watch")
                    if self.job_gone:
                        break
                elif outcome != "active":
                    break
                if pod_name is not None and pods.container_done(
                        self.cluster.pods(namespace).get(pod_name), CONTAINER):
                    container_exited_at = container_exited_at or trio.current_time()
                    if trio.current_time() - container_exited_at > RECHECK_SECONDS:
                        outcome = await self.recheck(namespace, job_name)
                        if outcome != "active":
                            break
                with trio.move_on_after(RECHECK_SECONDS / 2):
                    await self.cluster.wait_change(namespace, seen)
        if adapter_deadline.cancelled_caught:
            self.timed_out = True
            outcome, reason = "deadline", "AdapterDeadline"
            message = f"no terminal Job condition within timeoutSec+graceSec ({agent.timeout_sec}+{agent.grace_sec}s)"
            await self.delete_quietly("job", namespace, job_name)
        if outcome == "deadline":
            self.timed_out = True
        if outcome == "gone":
            reason = "JobDeleted"
            message = "; ".join(self.gone_details) or "the Job was deleted outside the supervisor"
        if outcome == "mismatch":
            self.mismatch = True
        await self.emit(types.JobTerminal(run_id=self.run_id, ts=self.now(), outcome=outcome,
                                          reason=reason, message=message))
        return outcome

    async def confirm_gone(self, namespace: str, job_name: str, via: str) -> None:
        """The informer lost the Job: a direct read decides (404 = gone; errors = not yet)."""
        try:
            await self.kube.get_job(namespace, job_name)
        except errors.NotFound:
            self.job_gone = True
            self.gone_details = [f"detected_via={via}", f"job={job_name}", f"ns={namespace}"]
        except errors.APIError:
            pass

    async def recheck(self, namespace: str, job_name: str) -> str:
        """Bounded re-check when the container ended but the Job never turned terminal."""
        try:
            job = await self.kube.get_job(namespace, job_name)
        except errors.NotFound:
            self.job_gone = True
            self.gone_details = ["detected_via=recheck-404", f"job={job_name}", f"ns={namespace}"]
            return "gone"
        except errors.APIError:
            return "mismatch"
        outcome = pods.job_outcome(job)[0]
        return "mismatch" if outcome == "active" else outcome

    async def record_exit(self, namespace: str, pod_name: str | None) -> None:
        """Read the claude container's exit (before any cleanup) and append it."""
        if pod_name is None:
            return
        pod = self.cluster.pods(namespace).get(pod_name)
        for attempt in range(EXIT_READ_ATTEMPTS):
            if pod is not None and pods.terminated(pod, CONTAINER) is not None:
                break
            if pod is not None and pods.phase(pod) not in ("Succeeded", "Failed"):
                break
            if attempt:
                await trio.sleep(EXIT_READ_DELAY)
            try:
                pod = await self.kube.get_pod(namespace, pod_name)
            except errors.NotFound:
                pod = None
                break
            except errors.APIError:
                continue
        self.pod_seen = pod
        term = pods.terminated(pod, CONTAINER) if pod is not None else None
        if term is not None:
            signal = term.get("signal")
            await self.emit(types.ContainerExited(
                run_id=self.run_id, ts=self.now(), exit_code=term.get("exitCode"),
                signal=signal if isinstance(signal, int) else None,
                reason=str(term.get("reason") or "")))

    # --- 5: keepalive, cancel --------------------------------------------------------

    async def keepalive_loop(self, namespace: str, job_name: str) -> None:
        interval = self.cluster.settings.keepalive_interval_sec
        while True:
            await trio.sleep(interval)
            last = self.state.last_output_at or self.state.created_at
            await self.emit(types.KeepaliveTicked(
                run_id=self.run_id, ts=self.now(), silent_for=round(max(0.0, self.now() - last), 3),
                job_state=self.job_outcome(namespace, job_name)))

    async def cancel_watch(self, namespace: str, job_name: str) -> None:
        await self.handle.cancel_requested.wait()
        # Recorded by the API before we were told; now act: the Job goes, the pod with it.
        await self.delete_quietly("job", namespace, job_name)
        pod = self.pod_of(namespace, job_name)
        if pod is not None:
            await self.delete_quietly("pod", namespace, pod["metadata"]["name"])
        self.cluster.poke(namespace)

    # --- 7: result, cleanup, finish ---------------------------------------------------

    async def conclude(self, agent: config.AgentConfig) -> None:
        cancelled = self.handle.cancel_requested.is_set() or self.state.cancel_requested
        pod = self.pod_seen
        observation = None
        if pod is not None or self.state.pod_name:
            term = pods.terminated(pod, CONTAINER) if pod is not None else None
            observation = classify.PodObservation(
                missing=pod is None,
                phase=pods.phase(pod) if pod is not None else None,
                reason=(pod or {}).get("status", {}).get("reason"),
                message=(pod or {}).get("status", {}).get("message"),
                claude_exit=classify.ContainerExit(
                    exit_code=term.get("exitCode"), reason=term.get("reason"),
                    message=term.get("message")) if term is not None else None)
        failure = self.failure
        if failure is None and self.mismatch:
            failure = classify.Failure(
                code=ErrorCode.K8S_JOB_STATE_MISMATCH,
                message="The Job never reached a terminal state after its container exited; kept for inspection")
        outcome = classify.RunOutcome(
            transcript=self.parser.summary(), pod=observation, cancelled=cancelled,
            timed_out=self.timed_out, timeout_sec=agent.timeout_sec, failure=failure,
            job_deleted_externally=self.job_gone and not cancelled,
            deletion_details=tuple(self.gone_details),
            resumed_session_id=self.request.session_id, configured_model=agent.model)
        result = classify.classify(outcome)
        usage = msgspec.to_builtins(result.usage) if result.usage is not None else {}
        await self.emit(types.ResultParsed(
            run_id=self.run_id, ts=self.now(), exit_code=result.exit_code,
            timed_out=result.timed_out, error_code=result.error_code or "",
            error_message=result.error_message or "", session_id=result.session_id or "",
            model=result.model or "", usage=usage, cost_usd=result.cost_usd,
            summary=result.summary, result_json=result.result_json,
            clear_session=result.clear_session))
        await self.cleanup_and_finish(agent)

    async def cleanup_and_finish(self, agent: config.AgentConfig) -> None:
        run = self.state
        result = run.result
        assert result is not None
        if run.job_name:
            if agent.retain_jobs:
                await self.emit(types.CleanupSkipped(run_id=self.run_id, ts=self.now(),
                                                     reason="retainJobs"))
            elif result.error_code == ErrorCode.K8S_JOB_STATE_MISMATCH:
                await self.emit(types.CleanupSkipped(run_id=self.run_id, ts=self.now(),
                                                     reason="state mismatch: Job kept for inspection"))
            else:
                deleted = []
                if await self.delete_quietly("job", run.namespace, run.job_name):
                    deleted.append(f"job/{run.job_name}")
                if run.secret_name and await self.delete_quietly("secret", run.namespace, run.secret_name):
                    deleted.append(f"secret/{run.secret_name}")
                await self.emit(types.CleanupDone(run_id=self.run_id, ts=self.now(), deleted=deleted))
        code = result.error_code
        phase = events_state.SUCCEEDED if not code else _PHASE_OF.get(code, events_state.FAILED)
        await self.emit(types.RunFinished(run_id=self.run_id, ts=self.now(), phase=phase,
                                          error_code=code, error_message=result.error_message,
                                          exit_code=result.exit_code))

    async def delete_quietly(self, kind: str, namespace: str, name: str) -> bool:
        try:
            if kind == "job":
                return await self.kube.delete_job(namespace, name, propagation="Background")
            if kind == "pod":
                return await self.kube.delete_pod(namespace, name)
            return await self.kube.delete_secret(namespace, name)
        except errors.APIError as exc:
            log.warning("run %s: could not delete %s %s: %s", self.run_id, kind, name, exc)
            return False
