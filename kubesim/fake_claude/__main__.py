"""`python -m kubesim.fake_claude`: the fake `claude` command."""

from kubesim.fake_claude.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
