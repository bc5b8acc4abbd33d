"""`python -m graph` is `ringtrace`."""

from graph.cli import main

main()
