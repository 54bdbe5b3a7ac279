"""paperclip-supervisor: the run supervisor daemon."""

__version__ = "0.1.0"
