"""Event ⇄ stored row, through one msgspec tagged-union decoder.

A row is ``(seq, run_id, kind, v, ts, meta, data)``: ``meta`` is the event struct as
JSON, ``data`` the bulky payload (log text, request body) kept apart so that folding
never decodes it. Rows of a kind or version this build does not know decode to
:class:`events.types.UnknownEvent` so that logs written by a newer supervisor can still
be read and shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from events import types

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(types.AnyEvent)
_dict_decoder = msgspec.json.Decoder(dict[str, Any])

# (kind, from_version) -> function upgrading the decoded dict by one version.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class StoredEvent(msgspec.Struct, frozen=True):
    """An event as it sits in the log: its global position and schema version."""

    seq: int
    v: int
    event: types.Event | types.UnknownEvent
    data: bytes | None = None

    @property
    def run_id(self) -> str:
        return self.event.run_id

    @property
    def kind(self) -> str:
        if isinstance(self.event, types.UnknownEvent):
            return self.event.kind
        return types.kind_of(self.event)

    @property
    def ts(self) -> float:
        return self.event.ts

    def text(self) -> str:
        """The bulky payload as text (log lines), replacing undecodable bytes."""
        return (self.data or b"").decode("utf-8", errors="replace")


def encode_meta(event: types.Event) -> bytes:
    return _encoder.encode(event)


def decode_row(
    seq: int, kind: str, v: int, run_id: str, ts: float, meta: bytes | str,
    data: bytes | None,
) -> StoredEvent:
    """Decode one stored row; never raises for unknown kinds or newer versions."""
    if v == types.SCHEMA_VERSION and type(meta) is bytes and kind in types.EVENT_CLASSES:
        # Nearly every row: a known kind at the current version (positional: cheaper).
        return StoredEvent(seq, v, _decoder.decode(meta), data)
    if isinstance(meta, str):  # written as TEXT by another tool
        meta = meta.encode()
    if kind not in types.EVENT_CLASSES or v > types.SCHEMA_VERSION:
        unknown = types.UnknownEvent(kind=kind, run_id=run_id, ts=ts, raw=bytes(meta))
        return StoredEvent(seq=seq, v=v, event=unknown, data=data)
    if v < types.SCHEMA_VERSION:
        event = _upcast(kind, v, meta)
    else:
        event = _decoder.decode(meta)
    return StoredEvent(seq=seq, v=v, event=event, data=data)


def _upcast(kind: str, v: int, meta: bytes) -> types.Event:
    fields = _dict_decoder.decode(meta)
    while v < types.SCHEMA_VERSION:
        fields = UPCASTERS[(kind, v)](fields)
        v += 1
    event: types.Event = msgspec.convert(fields, types.AnyEvent)
    return event


def event_to_json(stored: StoredEvent) -> dict[str, Any]:
    """The wire/export form: ``{"seq", "runId", "ts", "kind", …fields, "text"?}``."""
    out: dict[str, Any] = {"seq": stored.seq, "runId": stored.run_id, "ts": stored.ts}
    if isinstance(stored.event, types.UnknownEvent):
        out["kind"] = stored.event.kind
        try:
            fields = _dict_decoder.decode(stored.event.raw)
        except msgspec.DecodeError:
            fields = {"raw": stored.event.raw.decode("utf-8", errors="replace")}
        fields.pop("kind", None)
    else:
        out["kind"] = types.kind_of(stored.event)
        fields = msgspec.to_builtins(stored.event)
    fields.pop("run_id", None)
    fields.pop("ts", None)
    for key, value in fields.items():
        out[_camel(key)] = value
    if isinstance(stored.event, types.LogChunk):
        out["text"] = stored.text()
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
