"""Watch streams over HTTP: events, resume, 410 Expired, selectors, bookmarks, timeouts."""

from __future__ import annotations

import json
from contextlib import aclosing
from typing import Any

import httpx
import pytest
import trio
import trio.testing

import kubesim
from kubesim import resources, selectors, watch
from kubesim.sim import KubeSim
from kubesim.store import Store

from .helpers import JOBS, create_job, job_manifest, wait_job_condition

SECRETS = "/api/v1/namespaces/default/secrets"


async def watch_events(client: httpx.AsyncClient, path: str, **params: str) -> list[dict[str, Any]]:
    """Every event of one watch, read until the server ends the stream.

    Streams are always read to their end: leaving httpx's line iterator early leaves its inner
    generators to the garbage collector, which Trio reports as a ResourceWarning.
    """
    async with client.stream("GET", path, params={"watch": "1", **params},
                             timeout=None) as response:
        assert response.status_code == 200
        return [json.loads(line) async for line in response.aiter_lines()]


async def make_secret(client: httpx.AsyncClient, name: str, labels: dict[str, str] | None = None
                      ) -> dict[str, Any]:
    response = await client.post(SECRETS, json={"metadata": {"name": name, "labels": labels or {}},
                                                "stringData": {"k": name}})
    assert response.status_code == 201
    created: dict[str, Any] = response.json()
    return created


async def test_watch_from_a_list_version_sees_added_modified_deleted(
    client: httpx.AsyncClient, autojump_clock: trio.testing.MockClock
) -> None:
    listed = (await client.get(SECRETS)).json()
    received: list[dict[str, Any]] = []
    async with trio.open_nursery() as nursery:

        async def watcher() -> None:
            received.extend(await watch_events(
                client, SECRETS, resourceVersion=listed["metadata"]["resourceVersion"],
                timeoutSeconds="60"))

        nursery.start_soon(watcher)
        await trio.sleep(1)
        await make_secret(client, "w1")
        patch = {"metadata": {"labels": {"touched": "yes"}}}
        response = await client.patch(SECRETS + "/w1", json=patch,
                                      headers={"content-type": "application/merge-patch+json"})
        assert response.status_code == 200 and response.json()["metadata"]["labels"] == {
            "touched": "yes"}
        assert (await client.delete(SECRETS + "/w1")).status_code == 200
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in received] == [
        ("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in received]
    assert versions == sorted(versions) and len(set(versions)) == 3


async def test_watch_without_version_starts_with_the_current_objects(
    client: httpx.AsyncClient, autojump_clock: trio.testing.MockClock
) -> None:
    await make_secret(client, "a")
    await make_secret(client, "b")
    received = await watch_events(client, SECRETS, timeoutSeconds="1")
    names = [(event["type"], event["object"]["metadata"]["name"]) for event in received]
    assert names == [("ADDED", "a"), ("ADDED", "b")]


async def test_too_old_resource_version_gets_410_expired_event() -> None:
    async with kubesim.running(watch_history=3) as sim:
        async with httpx.AsyncClient(base_url=sim.url) as client:
            first = await make_secret(client, "old")
            for number in range(8):
                await make_secret(client, f"s{number}")
            received = await watch_events(
                client, SECRETS, resourceVersion=first["metadata"]["resourceVersion"])
    assert len(received) == 1
    assert received[0]["type"] == "ERROR"
    status = received[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith("too old resource version")


async def test_a_watcher_that_falls_behind_the_history_is_cut_with_410() -> None:
    store = Store(history_limit=2)
    request = watch.WatchRequest(
        resource=resources.SECRETS, namespace="default",
        label_match=selectors.label_matcher(None), field_match=selectors.field_matcher(None),
        resource_version="0", bookmarks=False, send_initial_events=False, timeout_seconds=60,
        filtered=False,
    )
    secret = {"metadata": {"name": "x0", "namespace": "default", "uid": "u"}}
    store.create(resources.SECRETS, secret)
    async with aclosing(watch.stream(store, request, bookmark_interval=60)) as stream:
        first = json.loads(await anext(stream))
        assert first["type"] == "ADDED"
        for number in range(1, 10):
            store.create(resources.SECRETS, {"metadata": {"name": f"x{number}",
                                                          "namespace": "default"}})
        error = json.loads(await anext(stream))
        assert (error["type"], error["object"]["code"]) == ("ERROR", 410)
        with pytest.raises(StopAsyncIteration):
            await anext(stream)


async def test_label_selector_turns_matching_changes_into_added_and_deleted(
    client: httpx.AsyncClient, autojump_clock: trio.testing.MockClock
) -> None:
    version = (await client.get(SECRETS)).json()["metadata"]["resourceVersion"]
    await make_secret(client, "sel", {"team": "a"})
    merge = {"content-type": "application/merge-patch+json"}
    await client.patch(SECRETS + "/sel", json={"metadata": {"labels": {"team": "b"}}},
                       headers=merge)
    await client.patch(SECRETS + "/sel", json={"metadata": {"labels": {"team": "a"}}},
                       headers=merge)
    received = await watch_events(client, SECRETS, resourceVersion=version,
                                  labelSelector="team in (a)", timeoutSeconds="1")
    kinds = [event["type"] for event in received]
    assert kinds == ["ADDED", "DELETED", "ADDED"]


async def test_field_selector_on_name(client: httpx.AsyncClient, autojump_clock: trio.testing.MockClock) -> None:
    await make_secret(client, "one")
    await make_secret(client, "two")
    received = await watch_events(client, SECRETS, fieldSelector="metadata.name=two",
                                  timeoutSeconds="1")
    names = [event["object"]["metadata"]["name"] for event in received]
    assert names == ["two"]


async def test_bookmarks_carry_the_current_resource_version(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with kubesim.running(bookmark_interval=0.2) as sim:
        async with httpx.AsyncClient(base_url=sim.url) as client:
            await make_secret(client, "bm")
            received = await watch_events(
                client, SECRETS, allowWatchBookmarks="true", sendInitialEvents="true",
                resourceVersionMatch="NotOlderThan", timeoutSeconds="1")
            current = sim.store.resource_version
    assert received[0]["type"] == "ADDED"
    end = received[1]
    assert end["type"] == "BOOKMARK"
    assert end["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    bookmarks = [event for event in received[2:] if event["type"] == "BOOKMARK"]
    assert len(bookmarks) >= 2
    assert {event["object"]["metadata"]["resourceVersion"] for event in bookmarks} == {
        str(current)}
    assert bookmarks[0]["object"]["kind"] == "Secret"


async def test_server_side_timeout_ends_the_stream_cleanly(
    kubesim_sim: KubeSim, client: httpx.AsyncClient, autojump_clock: trio.testing.MockClock
) -> None:
    started = trio.current_time()
    received = await watch_events(client, JOBS.format(ns="default"), resourceVersion="0")
    assert received == []
    assert 1800 <= trio.current_time() - started <= 3600


async def test_watch_follows_a_job_to_completion(
    kubesim_sim: KubeSim, client: httpx.AsyncClient, slow_autojump_clock: trio.testing.MockClock
) -> None:
    version = (await client.get(JOBS.format(ns="default"))).json()["metadata"]["resourceVersion"]
    await create_job(client, job_manifest("w", "true"))
    await wait_job_condition(kubesim_sim, "w", "Complete")
    received = await watch_events(client, JOBS.format(ns="default"), resourceVersion=version,
                                  labelSelector="app=kubesim-test", timeoutSeconds="30")
    statuses = [
        (event["type"], sorted(c["type"] for c in event["object"]["status"].get("conditions", [])))
        for event in received
    ]
    assert statuses[0] == ("ADDED", [])
    assert statuses[-1] == ("MODIFIED", ["Complete", "SuccessCriteriaMet"])
