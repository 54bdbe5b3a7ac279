"""The simulator's own endpoints under ``/_kubesim`` (never faulted, never recorded).

=====================================================  =========================================
``GET /_kubesim/output/{namespace}/{pod}/{container}``  ground truth: every line with timestamp
                                                        (``?format=log`` for log-API text)
``POST /_kubesim/faults``                               add a standing fault or run an action
``GET /_kubesim/faults``                                the standing faults and their budgets
``DELETE /_kubesim/faults`` / ``…/faults/{id}``         clear all / one
``GET /_kubesim/requests``                              request counts per class (``?log=1``: all)
``DELETE /_kubesim/requests``                           reset the recorder
``GET /_kubesim/healthz``                               ``ok``
=====================================================  =========================================
"""

from __future__ import annotations

import base64
import dataclasses
from typing import TYPE_CHECKING, Any

import msgspec

from kubesim import errors, faults
from kubesim.asgi import AnyResponse, Request, Response, json_response

if TYPE_CHECKING:
    from kubesim.sim import KubeSim


def _line_json(line: Any) -> dict[str, Any]:
    entry = {
        "timestamp": line.timestamp,
        "ts_ns": line.ts_ns,
        "stream": line.stream,
        "text": line.data.decode("utf-8", errors="replace"),
        "newline": line.newline,
        "restart": line.restart,
    }
    try:
        line.data.decode("utf-8")
    except UnicodeDecodeError:
        entry["base64"] = base64.b64encode(line.data).decode()
    return entry


def handle(sim: KubeSim, request: Request) -> AnyResponse:
    """Dispatch one admin request."""
    parts = [part for part in request.path.split("/") if part][1:]
    method = request.method
    if parts == ["healthz"]:
        return Response(200, b"ok", "text/plain")
    if len(parts) == 4 and parts[0] == "output" and method == "GET":
        lines = sim.output(parts[1], parts[2], parts[3])
        if request.param("format") == "log":
            text = b"".join(
                line.timestamp.encode() + b" " + line.data + (b"\n" if line.newline else b"")
                for line in lines
            )
            return Response(200, text, "text/plain")
        return json_response({"lines": [_line_json(line) for line in lines]})
    if parts and parts[0] == "faults":
        return _faults(sim, request, parts[1:])
    if parts == ["requests"]:
        if method == "DELETE":
            sim.recorder.reset()
            return json_response({"reset": True})
        body: dict[str, Any] = {"counts": sim.recorder.counts()}
        if request.flag("log"):
            body["requests"] = [dataclasses.asdict(r) for r in sim.recorder.requests()]
        return json_response(body)
    raise errors.NotFound("kubesim admin endpoints", "", request.path)


def _faults(sim: KubeSim, request: Request, rest: list[str]) -> AnyResponse:
    if request.method == "POST" and not rest:
        try:
            fault = faults.decode(request.body)
        except ValueError as exc:
            raise errors.BadRequest(f"invalid fault: {exc}") from exc
        result = sim.inject(fault)
        if result is None:
            return json_response({"applied": True}, 200)
        return json_response({"id": result}, 201)
    if request.method == "GET" and not rest:
        return json_response({
            "faults": [
                {"id": entry["id"], "times_left": entry["times_left"],
                 "fault": msgspec.json.decode(faults.encode(entry["fault"]))}
                for entry in sim.fault_registry.listing()
            ]
        })
    if request.method == "DELETE" and not rest:
        sim.clear_faults()
        return json_response({"cleared": True})
    if request.method == "DELETE" and len(rest) == 1 and rest[0].isdigit():
        if not sim.fault_registry.remove(int(rest[0])):
            raise errors.NotFound("faults", "", rest[0])
        return json_response({"removed": int(rest[0])})
    raise errors.MethodNotAllowed(request.method)
