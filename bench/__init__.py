"""Benchmarks, run from the repository root as modules: `python -m bench.broadcast`,
`python -m bench.digest`, `python -m bench.feeds`. Each prints its figures beside a floor
measured in the same run."""
