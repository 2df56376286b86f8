"""Plan Bot's benchmarks: `python -m bench` measures the bot against its targets (issue 7) and
writes `bench/RESULTS.md`. Benchmarks, not tests: nothing here runs under pytest."""
