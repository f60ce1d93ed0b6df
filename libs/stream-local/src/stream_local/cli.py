"""``stream-local``: the command line (filled in command by command)."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stream-local", description=__doc__)
    parser.parse_args(argv)
    parser.print_help()
    return 0
