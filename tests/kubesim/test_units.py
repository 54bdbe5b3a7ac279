"""Pure pieces: selectors, patches, the store's history, fault decoding, the public surface."""

from __future__ import annotations

from typing import Any

import pytest

import kubesim
from kubesim import errors, faults, patch, resources, selectors
from kubesim.store import Store


def labelled(**labels: str) -> dict[str, Any]:
    return {"metadata": {"name": "x", "labels": labels}}


@pytest.mark.parametrize(("selector", "labels", "matches"), [
    ("app=web", {"app": "web"}, True),
    ("app==web", {"app": "db"}, False),
    ("app!=web", {}, True),
    ("app in (web, db),tier", {"app": "db", "tier": "1"}, True),
    ("app in (web, db),tier", {"app": "db"}, False),
    ("app notin (web)", {"app": "db"}, True),
    ("!canary", {"canary": "1"}, False),
    ("batch.kubernetes.io/job-name=j1", {"batch.kubernetes.io/job-name": "j1"}, True),
    ("", {}, True),
])
def test_label_selectors(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert selectors.label_matcher(selector)(labelled(**labels)) is matches


def test_bad_label_selector_is_a_bad_request() -> None:
    with pytest.raises(errors.BadRequest, match="unable to parse requirement"):
        selectors.label_matcher("app = = web")


def test_field_selectors_compare_dotted_paths_missing_as_empty() -> None:
    pod = {"metadata": {"name": "p"}, "status": {"phase": "Running"}, "spec": {}}
    assert selectors.field_matcher("metadata.name=p,status.phase!=Failed")(pod)
    assert selectors.field_matcher("spec.nodeName=")(pod)
    assert not selectors.field_matcher("status.phase==Pending")(pod)
    with pytest.raises(errors.BadRequest):
        selectors.field_matcher("status.phase")


def test_json_patch_operations() -> None:
    doc = {"metadata": {"labels": {"a/b": "1"}}, "items": [1, 2]}
    result = patch.apply_json_patch(doc, [
        {"op": "add", "path": "/metadata/labels/c", "value": "2"},
        {"op": "replace", "path": "/metadata/labels/a~1b", "value": "3"},
        {"op": "add", "path": "/items/-", "value": 3},
        {"op": "remove", "path": "/items/0"},
        {"op": "copy", "from": "/metadata/labels/c", "path": "/copied"},
        {"op": "move", "from": "/copied", "path": "/moved"},
        {"op": "test", "path": "/moved", "value": "2"},
    ])
    assert result == {"metadata": {"labels": {"a/b": "3", "c": "2"}}, "items": [2, 3],
                      "moved": "2"}


@pytest.mark.parametrize("operations", [
    [{"op": "replace", "path": "/missing", "value": 1}],
    [{"op": "remove", "path": "/nope/deeper"}],
    [{"op": "test", "path": "/a", "value": 2}],
])
def test_json_patch_that_does_not_apply_is_422(operations: list[dict[str, Any]]) -> None:
    with pytest.raises(errors.ApiError) as failure:
        patch.apply_json_patch({"a": 1}, operations)
    assert failure.value.code == 422


def test_malformed_json_patch_is_400() -> None:
    with pytest.raises(errors.BadRequest):
        patch.apply_json_patch({}, {"op": "add"})
    with pytest.raises(errors.BadRequest, match="unknown JSON Patch operation"):
        patch.apply_json_patch({}, [{"op": "frobnicate", "path": "/a"}])


def test_merge_patch_sets_merges_and_removes_with_null() -> None:
    doc = {"metadata": {"labels": {"keep": "1", "drop": "2"}}, "spec": {"x": [1]}}
    assert patch.apply_merge_patch(doc, {"metadata": {"labels": {"drop": None, "new": "3"}},
                                         "spec": {"x": [2]}}) == {
        "metadata": {"labels": {"keep": "1", "new": "3"}}, "spec": {"x": [2]}}


def test_store_versions_history_and_expiry() -> None:
    store = Store(history_limit=3)
    secret = resources.SECRETS
    created = store.create(secret, {"metadata": {"name": "a", "namespace": "n"}})
    first = int(created["metadata"]["resourceVersion"])
    assert first > 1
    unchanged = store.replace(secret, created)
    assert unchanged["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    with pytest.raises(errors.AlreadyExists):
        store.create(secret, {"metadata": {"name": "a", "namespace": "n"}})
    stale = dict(created, data={"k": "dg=="})
    store.update(secret, "n", "a", lambda obj: obj.update(type="Opaque"))
    with pytest.raises(errors.Conflict):
        store.replace(secret, stale)
    for number in range(10):
        store.create(secret, {"metadata": {"name": f"s{number}", "namespace": "n"}})
    with pytest.raises(errors.Expired):
        store.changes_since(first)
    latest = store.resource_version
    assert [change.rv for change in store.changes_since(latest - 2)] == [latest - 1, latest]
    removed = store.remove(secret, "n", "a")
    assert removed is not None and int(removed["metadata"]["resourceVersion"]) == latest + 1
    assert store.get(secret, "n", "a") is None


def test_store_hands_out_copies() -> None:
    store = Store()
    store.create(resources.SECRETS, {"metadata": {"name": "a", "namespace": "n"}})
    copy = store.require(resources.SECRETS, "n", "a")
    copy["metadata"]["name"] = "changed"
    assert store.require(resources.SECRETS, "n", "a")["metadata"]["name"] == "a"


def test_fault_round_trip_through_json() -> None:
    fault = kubesim.LogCut(pod="p-.*", after_bytes=10, after_bytes_max=20, times=3)
    assert faults.decode(faults.encode(fault)) == fault


def test_public_surface_is_exactly_all() -> None:
    for name in kubesim.__all__:
        assert getattr(kubesim, name) is not None
    with pytest.raises(AttributeError):
        _ = kubesim.Nonexistent  # type: ignore[attr-defined]
    assert sorted(kubesim.__all__) == [
        "AccessRule", "CrashLoop", "DeleteJob", "EvictPod", "ExitEarly", "HttpError",
        "ImagePullFailure", "KubeSim", "Latency", "LogCut", "LogHang", "OutputLine",
        "RotateLogs", "Unschedulable", "running",
    ]
