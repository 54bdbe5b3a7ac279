"""A `claude` stand-in for test pods: plays scripted Claude Code stream-json runs.

Run it as `python -m kubesim.fake_claude -p --output-format stream-json --verbose` with the
prompt on stdin; a first prompt line `#scenario NAME key=value ...` picks what it plays
(`--list-scenarios` prints them all). Output is shaped like the real CLI 2.1.197's.
"""
