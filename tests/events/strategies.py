"""Hypothesis strategies producing realistic event sequences."""

from __future__ import annotations

from hypothesis import strategies as st

from events import types

run_ids = st.sampled_from(["run-a", "run-b", "run-c", "run-δ"])
texts = st.text(max_size=40)
small = st.integers(min_value=0, max_value=10_000)
times = st.floats(min_value=1.7e9, max_value=1.8e9, allow_nan=False)


def _event(cls: type[types.Event], **fields: st.SearchStrategy[object]) -> st.SearchStrategy:
    return st.builds(cls, run_id=run_ids, ts=times, **fields)


events = st.one_of(
    _event(types.RunRequested, agent_id=texts, task_key=texts, session_id=texts),
    _event(types.ManifestBuilt, job_name=texts, namespace=texts),
    _event(types.JobCreated, job_name=texts, namespace=texts, uid=texts, adopted=st.booleans()),
    _event(types.PodPending, pod_name=texts, detail=texts),
    _event(types.PodRunning, pod_name=texts),
    _event(types.LogChunk, lines=small, nbytes=small, cursor_time=texts, cursor_count=small),
    _event(types.OutputGap, reason=texts),
    _event(types.LogReconnected, attempt=small),
    _event(types.KeepaliveTicked, silent_for=st.floats(0, 1e4)),
    _event(types.CancelRequested, reason=texts),
    _event(types.JobTerminal, outcome=st.sampled_from(["complete", "failed", "deadline", "gone"])),
    _event(types.ContainerExited, exit_code=st.none() | st.integers(0, 255)),
    _event(types.ResultParsed, error_code=texts, session_id=texts, cost_usd=st.none() | st.floats(0, 10)),
    _event(types.RunFinished, phase=st.sampled_from(["succeeded", "failed", "cancelled", "lost"]),
           error_code=texts),
    st.builds(types.SupervisorStarted, ts=times, pid=small),
)

payloads = st.none() | st.binary(max_size=64)
event_lists = st.lists(st.tuples(events, payloads), max_size=60)
