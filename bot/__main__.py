"""`python -m bot` runs the same command line as `lambert`."""

from bot.cli import main

raise SystemExit(main())
