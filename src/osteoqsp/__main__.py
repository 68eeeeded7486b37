"""`python -m osteoqsp ...`: the command line (osteoqsp.shells.cli)."""

from osteoqsp.shells.cli import entry

entry()
