"""The daemon's HTTP/1.1 API over a Unix socket (``/v1``, JSON bodies, NDJSON streams).

Layers, top to bottom: :mod:`~supervisor.api.server` (Hypercorn on the prepared socket),
:mod:`~supervisor.api.app` (the ASGI entry point and error mapping), :mod:`~supervisor.api.routes`
(one table of method + path → handler), the handlers (:mod:`~supervisor.api.queries`,
:mod:`~supervisor.api.commands`, :mod:`~supervisor.api.streams`), and the wire types in
:mod:`~supervisor.api.schemas`, which :mod:`~supervisor.api.client` shares.
"""
