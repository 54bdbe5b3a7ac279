"""Informers against kubesim: list+watch, resume, 410 Gone relists, fallback after errors."""

from __future__ import annotations

from typing import Any

import trio

from kubesim import faults, running
from supervisor.k8s import api, session, watch

SELECTOR = "app.kubernetes.io/managed-by=paperclip-supervisor"


def _job(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "paperclip-supervisor"}},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "c", "image": "busybox", "command": ["sh", "-c", "sleep 30"]}]}}},
    }


async def test_informer_follows_changes_and_survives_gone_and_errors(tmp_path: Any) -> None:
    async with running(work_dir=tmp_path / "sim") as sim:
        kube = session.connect(str(sim.write_kubeconfig(tmp_path / "kubeconfig")))
        informer = watch.Informer(kube, "/apis/batch/v1/namespaces/default/jobs",
                                  selector=SELECTOR, min_backoff=0.05, max_backoff=0.2,
                                  watch_timeout=1)  # watches end every second: faults bite
        async with trio.open_nursery() as nursery:
            await nursery.start(informer.run)
            with trio.fail_after(20):
                await kube.create_job("default", _job("one"))
                await informer.wait_until(lambda: "one" in informer.objects)
                # A watch answered 410 Gone: relist, and still see later changes.
                sim.inject(faults.HttpError(status=410, path=r"/jobs$", query="watch", times=1))
                await informer.wait_until(lambda: informer.relists_after_gone >= 1)
                await kube.delete_job("default", "one")
                await informer.wait_until(lambda: "one" not in informer.objects)
                await kube.create_job("default", _job("two"))
                await informer.wait_until(lambda: "two" in informer.objects)
                # The API fails for a while: the informer backs off and relists.
                sim.inject(faults.HttpError(status=503, path=r"/jobs$", query="watch", times=2))
                sim.inject(faults.HttpError(status=503, path=r"/jobs$", times=5))
                await informer.wait_until(lambda: informer.watch_failures >= 1)
                await kube.create_job("default", _job("three"))
                await informer.wait_until(lambda: "three" in informer.objects)
            assert informer.relists_after_gone >= 1 and informer.watch_failures >= 1, informer
            nursery.cancel_scope.cancel()
        await kube.aclose()
        assert set(informer.objects) == {"two", "three"}
        kube2: api.KubeAPI = kube
        assert kube2.requests_sent > 0
