"""`python -m adapters.cli ...` runs the `relance` command (web workers, benchmarks)."""

from adapters.cli.main import main

main()
