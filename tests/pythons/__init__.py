"""`make test-pythons`: the course on every supported Python (see matrix.py).

Run as ``python -m tests.pythons [--python X ...] [LESSON ...]``.
"""
