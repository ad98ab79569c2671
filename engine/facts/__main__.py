"""`python -m engine.facts [--markdown | --json | --example]`."""

from engine.facts import main

if __name__ == "__main__":
    raise SystemExit(main())
