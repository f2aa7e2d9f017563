"""Throughput and timing benchmarks, each measured against a baseline in the
same run. Run from the repository root: ``python -m benchmarks.grading``."""
