"""A loopback stub of the Anthropic Messages API for running the real Claude Code CLI offline.

`open_messages_stub(Script.text("hi"))` serves streamed replies the way the API does;
`python -m kubesim.messages_stub --port 0 --scenario tool` runs one in its own process.
"""

from kubesim.messages_stub.app import MessagesApp as MessagesApp
from kubesim.messages_stub.app import RecordedRequest as RecordedRequest
from kubesim.messages_stub.replies import SCRIPT_NAMES as SCRIPT_NAMES
from kubesim.messages_stub.replies import ErrorReply as ErrorReply
from kubesim.messages_stub.replies import Script as Script
from kubesim.messages_stub.replies import TextReply as TextReply
from kubesim.messages_stub.replies import ToolUseReply as ToolUseReply
from kubesim.messages_stub.server import MessagesStub as MessagesStub
from kubesim.messages_stub.server import open_messages_stub as open_messages_stub
from kubesim.messages_stub.server import serve as serve

__all__ = [
    "SCRIPT_NAMES",
    "ErrorReply",
    "MessagesApp",
    "MessagesStub",
    "RecordedRequest",
    "Script",
    "TextReply",
    "ToolUseReply",
    "open_messages_stub",
    "serve",
]
