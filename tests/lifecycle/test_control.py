"""Concurrency guard across many runs, and cancellation at every phase."""

from __future__ import annotations

from typing import Any

import trio

from tests.lifecycle.harness import NAMESPACE, Rig, rig


async def test_twenty_runs_across_five_agents_never_run_two_jobs_for_one_agent() -> None:
    async with rig() as r:
        peak: dict[str, int] = {}
        stop_watching = trio.Event()

        async def watch_jobs() -> None:
            # kubesim's own store: the truth about how many Jobs each agent has at once.
            while not stop_watching.is_set():
                live: dict[str, int] = {}
                for job in r.sim.list("jobs", NAMESPACE):
                    agent = job["metadata"]["labels"]["paperclip.io/agent-id"]
                    live[agent] = live.get(agent, 0) + 1
                for agent, count in live.items():
                    peak[agent] = max(peak.get(agent, 0), count)
                await trio.sleep(0.005)

        async def one(agent: int, task: int) -> None:
            run_id = f"run-a{agent}-t{task}"
            await r.start(run_id, "#scenario sleep seconds=1\nwork", agent=f"agent-{agent}",
                          taskKey=f"TASK-{task}")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch_jobs)
            async with trio.open_nursery() as submitters:
                for agent in range(5):
                    for task in range(4):
                        submitters.start_soon(one, agent, task)
            finals = [await r.wait_finished(f"run-a{a}-t{t}") for a in range(5) for t in range(4)]
            stop_watching.set()
        by_agent: dict[str, list[dict[str, Any]]] = {}
        for final in finals:
            by_agent.setdefault(final["agentId"], []).append(final)
        for agent, runs in by_agent.items():
            outcomes = sorted((run["phase"], run["errorCode"] or "") for run in runs)
            if outcomes.count(("succeeded", "")) < 1:
                details = "\n\n".join(r.dump(run["runId"]) for run in runs)
                raise AssertionError(f"{agent}: {outcomes}\n{details}")
            assert all(o in (("succeeded", ""), ("failed", "k8s_concurrent_run_blocked"))
                       for o in outcomes), (agent, outcomes)
        assert peak and max(peak.values()) == 1, peak


async def _submit_and_cancel_when(r: Rig, run_id: str, phase: str | None) -> dict[str, Any]:
    await r.start(run_id, "#scenario sleep seconds=60\nwork")
    if phase is not None:
        await r.wait_phase(run_id, phase)
    await r.client.cancel(run_id, reason="operator")
    await r.client.cancel(run_id, reason="operator again")  # idempotent
    return await r.wait_finished(run_id)


async def test_cancel_at_every_phase_ends_cancelled_and_leaves_nothing_behind() -> None:
    async with rig() as r:
        for phase in (None, "scheduling", "running"):
            run_id = f"run-cancel-{phase or 'now'}"
            final = await _submit_and_cancel_when(r, run_id, phase)
            assert (final["phase"], final["errorCode"]) == ("cancelled", "cancelled"), final
            assert r.kinds(run_id).count("cancel.requested") == 1
            if final["podName"]:
                assert r.transcript(run_id) == r.printed(final["podName"])
        with trio.fail_after(20):
            await r.sim.wait_for(lambda: not (r.sim.list("jobs", NAMESPACE)
                                              or r.sim.list("pods", NAMESPACE)))
        # Cancelling a finished run changes nothing.
        again = await r.client.cancel("run-cancel-running")
        assert again["phase"] == "cancelled"
        assert r.kinds("run-cancel-running").count("run.finished") == 1
