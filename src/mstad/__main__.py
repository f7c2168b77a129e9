"""``python -m mstad`` = the ``mstad`` command."""

from mstad.cli import main

main()
