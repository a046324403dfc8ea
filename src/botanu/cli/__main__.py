"""`python -m botanu.cli`: the same as the `botanu` command."""

from botanu.cli.main import main

main()
