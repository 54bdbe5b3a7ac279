"""Pod diagnostics read from Pod objects shaped as the API returns them."""

from __future__ import annotations

from typing import Any

from supervisor.k8s import pods


def _pod(phase: str = "Pending", *, init: list[dict[str, Any]] | None = None,
         main: dict[str, Any] | None = None, conditions: list[dict[str, Any]] | None = None,
         reason: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase}
    if init is not None:
        status["initContainerStatuses"] = init
    if main is not None:
        status["containerStatuses"] = [{"name": "claude", "state": main}]
    if conditions is not None:
        status["conditions"] = conditions
    if reason:
        status["reason"] = reason
    return {"metadata": {"name": "p1"}, "status": status}


def test_failure_reasons_match_the_seed_wording() -> None:
    cases = [
        (_pod(init=[{"name": "write-prompt", "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]),
         'Init container "write-prompt" failed with exit code 2: Error'),
        (_pod(init=[{"name": "write-prompt", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}}}]),
         'Init container "write-prompt" image pull failed: no such image'),
        (_pod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes"}]),
         "Pod unschedulable: 0/3 nodes"),
        (_pod(main={"waiting": {"reason": "ErrImagePull"}}), 'Image pull failed for "claude": ErrImagePull'),
        (_pod(main={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}),
         'Container "claude" crash loop: back-off'),
        (_pod("Failed", main={"terminated": {"exitCode": 137, "reason": "OOMKilled"}}),
         "Pod p1 reached phase=Failed: claude exited 137 (OOMKilled)"),
        (_pod("Failed", reason="Evicted"), "Pod p1 reached phase=Failed: Evicted"),
    ]
    for pod, expected in cases:
        assert pods.failure(pod, "claude") == expected
    assert pods.failure(_pod(main={"waiting": {"reason": "ContainerCreating"}}), "claude") is None


def test_streamable_once_inits_are_done_and_main_started() -> None:
    done_init = [{"name": "write-prompt", "state": {"terminated": {"exitCode": 0}}}]
    assert not pods.streamable(_pod(init=done_init, main={"waiting": {}}), "claude")
    assert pods.streamable(_pod(init=done_init, main={"running": {}}), "claude")
    assert pods.streamable(_pod("Running"), "claude")
    assert pods.container_done(None, "claude")
    assert pods.container_done(_pod("Running", main={"terminated": {"exitCode": 0}}), "claude")
    assert not pods.container_done(_pod("Running", main={"running": {}}), "claude")


def test_job_outcome_from_conditions() -> None:
    def job(*conds: tuple[str, str]) -> dict[str, Any]:
        return {"status": {"conditions": [{"type": t, "status": "True", "reason": r} for t, r in conds]}}

    assert pods.job_outcome(None)[0] == "gone"
    assert pods.job_outcome(job())[0] == "active"
    assert pods.job_outcome(job(("SuccessCriteriaMet", ""), ("Complete", "")))[0] == "complete"
    assert pods.job_outcome(job(("Failed", "BackoffLimitExceeded")))[0] == "failed"
    assert pods.job_outcome(job(("FailureTarget", "DeadlineExceeded"), ("Failed", "DeadlineExceeded")))[0] == "deadline"
    assert "Pod p1: phase=Pending, claude: waiting (ContainerCreating)" == pods.describe(
        _pod(main={"waiting": {"reason": "ContainerCreating"}}))
