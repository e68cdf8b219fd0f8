"""Benchmarks: run by hand (see README, Performance); never in CI."""
