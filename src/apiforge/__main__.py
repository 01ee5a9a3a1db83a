"""Entry point of the `apiforge` console script and of `python -m apiforge`."""

from __future__ import annotations


def main() -> None:
    from apiforge.cli import app

    app()


if __name__ == "__main__":
    main()
