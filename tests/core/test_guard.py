"""The concurrency guard: every branch of the decision, on Jobs built by the real manifest
builder (so the labels are exactly those a live system carries) and on bare label-only Jobs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from supervisor import guard
from supervisor.k8s import manifests

Build = Callable[..., manifests.BuiltJob]


def job(
    name: str,
    *,
    run: str | None = "run-old",
    task: str | None = "task-1",
    session: str | None = None,
    created: str = "2026-01-01T00:00:00Z",
    conditions: list[dict[str, str]] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    """A Job carrying only what the guard reads, like the seed adapter's fixtures."""
    job_labels = {"paperclip.io/agent-id": "agent-abc", "paperclip.io/adapter-type": "claude_k8s"}
    if run is not None:
        job_labels["paperclip.io/run-id"] = run
    if task is not None:
        job_labels["paperclip.io/task-id"] = task
    if session is not None:
        job_labels["paperclip.io/session-id"] = session
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": "paperclip",
        "labels": job_labels,
        "creationTimestamp": created,
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-02T00:00:00Z"
    return {"metadata": metadata, "status": {"conditions": conditions or []}}


def decide(jobs: list[dict[str, Any]], **kwargs: Any) -> guard.Decision:
    arguments: dict[str, Any] = {
        "run_id": "run-new",
        "task_key": "task-1",
        "session_id": None,
        "reattach_orphaned_jobs": True,
    }
    arguments.update(kwargs)
    return guard.decide(jobs, **arguments)


class TestNothingInTheWay:
    def test_no_jobs(self) -> None:
        assert decide([]) == guard.Proceed()

    @pytest.mark.parametrize(
        "condition", ["Complete", "Failed", "SuccessCriteriaMet", "FailureTarget"]
    )
    def test_finished_jobs_are_ignored(self, condition: str) -> None:
        finished = job("old", task="other", conditions=[{"type": condition, "status": "True"}])
        assert decide([finished]) == guard.Proceed()

    def test_false_conditions_do_not_finish_a_job(self) -> None:
        running = job("old", task="other", conditions=[{"type": "Failed", "status": "False"}])
        assert isinstance(decide([running]), guard.Block)

    def test_jobs_being_deleted_are_ignored(self) -> None:
        # `kubectl delete job` blocked every later run until the Job was gone (FAR-34).
        assert decide([job("old", task="other", deleting=True)]) == guard.Proceed()


class TestSameRun:
    def test_live_job_of_this_run_blocks(self) -> None:
        decision = decide([job("mine", run="run-new")])
        assert decision == guard.Block(
            "k8s_concurrent_run_blocked",
            "Concurrent run blocked: Job mine is still running for this agent",
            ("mine",),
        )

    def test_b9_label_compared_in_sanitised_form(self) -> None:
        # The Job label is sanitised; the run id is raw. They must still be recognised as equal.
        decision = decide([job("mine", run="run1two")], run_id="run/1 two")
        assert isinstance(decision, guard.Block)
        assert decision.job_names == ("mine",)

    def test_raw_annotation_wins_over_a_colliding_label(self) -> None:
        # "run_1" and "run1" sanitise alike; the annotation tells them apart.
        other = job("other", run="run1", task="task-1")
        other["metadata"]["annotations"] = {"paperclip.io/run-id": "run1"}
        decision = decide([other], run_id="run_1")
        assert isinstance(decision, guard.Reattach)  # an orphan, not this run's Job

    def test_same_run_blocks_even_with_an_adoptable_orphan(self) -> None:
        decision = decide([job("orphan"), job("mine", run="run-new")])
        assert isinstance(decision, guard.Block)
        assert decision.job_names == ("mine",)


class TestOrphans:
    def test_reattach_disabled_blocks(self) -> None:
        decision = decide([job("a"), job("b")], reattach_orphaned_jobs=False)
        assert decision == guard.Block(
            "k8s_concurrent_run_blocked",
            "Concurrent run blocked: orphaned Job(s) still running for this agent"
            " (reattach disabled)",
            ("a", "b"),
        )

    @pytest.mark.parametrize(
        ("current", "orphan"), [(None, "task-1"), ("task-1", None), (None, None)]
    )
    def test_unknown_task_blocks(self, current: str | None, orphan: str | None) -> None:
        decision = decide([job("o", task=orphan)], task_key=current)
        assert decision == guard.Block(
            "k8s_orphan_task_unknown",
            "Concurrent run blocked: orphaned Job o has unknown task context",
            ("o",),
        )

    def test_different_task_blocks(self) -> None:
        decision = decide([job("o", task="task-2")])
        assert decision == guard.Block(
            "k8s_concurrent_run_blocked",
            "Concurrent run blocked: orphaned Job o is running a different task",
            ("o",),
        )

    def test_mismatched_session_blocks(self) -> None:
        decision = decide([job("o", session="s-1")], session_id="s-2")
        assert decision == guard.Block(
            "k8s_orphan_session_mismatch",
            "Concurrent run blocked: orphaned Job o has a mismatched session",
            ("o",),
        )

    @pytest.mark.parametrize(
        ("current", "orphan"), [("s-1", "s-1"), (None, "s-1"), ("s-1", None), (None, None)]
    )
    def test_same_task_and_compatible_session_reattaches(
        self, current: str | None, orphan: str | None
    ) -> None:
        decision = decide([job("o", session=orphan)], session_id=current)
        assert isinstance(decision, guard.Reattach)
        assert (decision.job_name, decision.namespace, decision.prior_run_id) == (
            "o",
            "paperclip",
            "run-old",
        )

    def test_raw_task_key_matches_the_sanitised_label(self) -> None:
        decision = decide([job("o", task="taskxyz123")], task_key="task:xyz/123")
        assert isinstance(decision, guard.Reattach)

    def test_newest_adoptable_orphan_is_chosen(self) -> None:
        jobs = [
            job("oldest", created="2026-01-01T00:00:00Z"),
            job("newest", created="2026-01-03T00:00:00Z"),
            job("middle", created="2026-01-02T00:00:00Z"),
        ]
        decision = decide(jobs)
        assert isinstance(decision, guard.Reattach)
        assert decision.job_name == "newest"

    def test_a_later_blocking_orphan_still_blocks(self) -> None:
        jobs = [
            job("adoptable", created="2026-01-03T00:00:00Z"),
            job("other-task", task="task-9", created="2026-01-01T00:00:00Z"),
        ]
        decision = decide(jobs)
        assert isinstance(decision, guard.Block)
        assert decision.job_names == ("other-task",)

    def test_newest_blocking_orphan_is_reported_first(self) -> None:
        jobs = [
            job("old-unknown", task=None, created="2026-01-01T00:00:00Z"),
            job("new-mismatch", session="x", created="2026-01-02T00:00:00Z"),
        ]
        decision = decide(jobs, session_id="y")
        assert isinstance(decision, guard.Block)
        assert decision.code == "k8s_orphan_session_mismatch"

    def test_missing_or_odd_timestamps_sort_oldest(self) -> None:
        no_stamp = job("no-stamp")
        del no_stamp["metadata"]["creationTimestamp"]
        jobs = [no_stamp, job("garbled", created="yesterday"), job("dated")]
        decision = decide(jobs)
        assert isinstance(decision, guard.Reattach)
        assert decision.job_name == "dated"

    def test_orphan_without_a_run_label_is_an_orphan(self) -> None:
        decision = decide([job("o", run=None)])
        assert isinstance(decision, guard.Reattach)
        assert decision.prior_run_id is None


class TestOnBuiltJobs:
    def test_reattach_carries_the_orphans_own_log_path(
        self, build: Build, make_request: Any
    ) -> None:
        # B.1: the adopting run must follow the file the orphan's pod writes, not its own path.
        orphan = build(request=make_request(runId="run-prior", taskKey="issue-7", sessionId="s1"))
        decision = decide([orphan.job], run_id="run-next", task_key="issue-7", session_id="s1")
        assert isinstance(decision, guard.Reattach)
        assert decision.prior_run_id == "run-prior"
        assert decision.tee_log_path == orphan.tee_log_path
        assert decision.tee_log_path is not None and "run-prior" in decision.tee_log_path

    def test_after_relabelling_the_adopted_job_belongs_to_the_new_run(
        self, build: Build, make_request: Any
    ) -> None:
        orphan = build(request=make_request(runId="run-prior", taskKey="issue-7")).job
        patch = manifests.reattach_patch(run_id="run-next", session_id=None).body
        adopted = copy.deepcopy(orphan)
        adopted["metadata"]["labels"].update(patch["metadata"]["labels"])
        adopted["metadata"]["annotations"].update(patch["metadata"]["annotations"])
        # The next guard for the same run sees its own Job, not an orphan.
        decision = decide([adopted], run_id="run-next", task_key="issue-7")
        assert isinstance(decision, guard.Block)
        assert decision.code == "k8s_concurrent_run_blocked"

    def test_different_task_on_built_jobs(self, build: Build, make_request: Any) -> None:
        orphan = build(request=make_request(runId="run-prior", taskKey="issue-7")).job
        decision = decide([orphan], run_id="run-next", task_key="issue-8")
        assert isinstance(decision, guard.Block)
        assert decision.job_names == (orphan["metadata"]["name"],)

    def test_is_live(self, build: Build) -> None:
        built = build().job
        assert guard.is_live(built)
        built["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
        assert not guard.is_live(built)
