"""`python -m kubesim.messages_stub`: run the stub in its own process."""

from kubesim.messages_stub.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
