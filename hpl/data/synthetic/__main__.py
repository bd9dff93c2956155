"""Command-line entry point: ``python -m hpl.data.synthetic``."""

from hpl.data.synthetic.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
