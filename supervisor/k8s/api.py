"""Async REST access to the Kubernetes API over httpx, under Trio.

The only code that sends requests to the cluster. Every call has a bounded timeout;
transient failures (connect errors, 5xx, 429 with Retry-After) are retried with capped
exponential backoff and full jitter where repeating the call is safe; 404 surfaces as
:class:`errors.NotFound` everywhere. Creates are safe to retry because our object
names are deterministic: a 409 AlreadyExists after a retried create means an earlier
attempt succeeded, and the caller adopts the object.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
import trio

from supervisor.k8s import errors

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"

# Bounded timeouts for ordinary calls; streams (logs, watch) set their own read timeout.
CALL_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=10.0)


class RetryPolicy(msgspec.Struct, frozen=True):
    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_retry_after: float = 30.0


class KubeAPI:
    """A thin typed surface over the REST paths the supervisor uses.

    Args:
        client: an ``httpx.AsyncClient`` whose base URL is the API server (see
            :mod:`supervisor.k8s.session`).
        retry: how transient failures are retried.
        rng: the jitter source (seed it in tests).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.retry = retry or RetryPolicy()
        self._rng = rng or random.Random()
        self.requests_sent = 0
        self.last_success_at: float | None = None
        self.last_error: str = ""

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- the core ----------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        retry: bool = True,
    ) -> dict[str, Any]:
        """Send one request (retrying transient failures if ``retry``); return its JSON."""
        content = None if body is None else msgspec.json.encode(body)
        headers = {"Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = content_type
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._send(
                    method, path, params=params, content=content, headers=headers
                )
            except errors.TransientAPIError as exc:
                if not retry or attempt >= self.retry.attempts:
                    raise
                await trio.sleep(self._backoff(attempt, exc.retry_after))

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str],
    ) -> dict[str, Any]:
        self.requests_sent += 1
        try:
            response = await self.client.request(
                method, path, params=params, content=content, headers=headers, timeout=CALL_TIMEOUT
            )
        except httpx.HTTPError as exc:
            self.last_error = str(exc)
            raise errors.unreachable(method, path, exc) from exc
        if response.status_code >= 400:
            error = errors.from_response(response, response.content)
            self.last_error = error.message
            raise error
        self.last_success_at = trio.current_time()
        if not response.content:
            return {}
        decoded = msgspec.json.decode(response.content)
        return decoded if isinstance(decoded, dict) else {"value": decoded}

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry.max_retry_after)
        ceiling = min(self.retry.max_delay, self.retry.base_delay * (2 ** (attempt - 1)))
        return self._rng.uniform(0, ceiling)

    # --- Jobs --------------------------------------------------------------------

    async def create_job(self, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        return await self.call("POST", f"/apis/batch/v1/namespaces/{namespace}/jobs", body=manifest)

    async def get_job(self, namespace: str, name: str) -> dict[str, Any]:
        return await self.call("GET", f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}")

    async def list_jobs(self, namespace: str, selector: str) -> dict[str, Any]:
        return await self.call(
            "GET", f"/apis/batch/v1/namespaces/{namespace}/jobs", params={"labelSelector": selector}
        )

    async def delete_job(
        self, namespace: str, name: str, *, propagation: str = "Background"
    ) -> bool:
        """Delete; returns False if it was already gone."""
        try:
            await self.call(
                "DELETE",
                f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}",
                body={
                    "kind": "DeleteOptions",
                    "apiVersion": "v1",
                    "propagationPolicy": propagation,
                },
            )
        except errors.NotFound:
            return False
        return True

    async def patch_job(
        self, namespace: str, name: str, patch: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return await self.call(
            "PATCH",
            f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}",
            body=patch,
            content_type=JSON_PATCH,
        )

    # --- Pods --------------------------------------------------------------------

    async def list_pods(self, namespace: str, selector: str) -> dict[str, Any]:
        return await self.call(
            "GET", f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": selector}
        )

    async def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        return await self.call("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")

    async def delete_pod(self, namespace: str, name: str) -> bool:
        try:
            await self.call("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}")
        except errors.NotFound:
            return False
        return True

    # --- Secrets -----------------------------------------------------------------

    async def create_secret(self, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        return await self.call("POST", f"/api/v1/namespaces/{namespace}/secrets", body=manifest)

    async def delete_secret(self, namespace: str, name: str) -> bool:
        try:
            await self.call("DELETE", f"/api/v1/namespaces/{namespace}/secrets/{name}")
        except errors.NotFound:
            return False
        return True

    async def patch_secret(
        self, namespace: str, name: str, patch: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return await self.call(
            "PATCH",
            f"/api/v1/namespaces/{namespace}/secrets/{name}",
            body=patch,
            content_type=JSON_PATCH,
        )

    # --- streams -----------------------------------------------------------------

    @asynccontextmanager
    async def stream(
        self, path: str, params: dict[str, Any], *, read_timeout: float | None
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Open a streaming GET (pod log, watch); yields its raw byte chunks.

        Raises the same error tree as :meth:`call` for the status line; errors while
        reading the body surface as :class:`errors.Unreachable`.
        """
        self.requests_sent += 1
        timeout = httpx.Timeout(connect=5.0, read=read_timeout, write=10.0, pool=10.0)
        request = self.client.build_request("GET", path, params=params, timeout=timeout)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise errors.unreachable("GET", path, exc) from exc
        try:
            if response.status_code >= 400:
                raise errors.from_response(response, await response.aread())
            self.last_success_at = trio.current_time()
            chunks = _chunks(response, path)
            try:
                yield chunks
            finally:
                await chunks.aclose()  # closes httpx's own iterators, never left to the GC
        finally:
            await response.aclose()

    def log_path(self, namespace: str, pod: str) -> str:
        return f"/api/v1/namespaces/{namespace}/pods/{pod}/log"


async def _chunks(response: httpx.Response, path: str) -> AsyncGenerator[bytes, None]:
    try:
        async with contextlib.aclosing(response.aiter_raw()) as raw:  # type: ignore[type-var]
            async for chunk in raw:
                yield chunk
    except httpx.HTTPError as exc:
        raise errors.unreachable("GET", path, exc) from exc
