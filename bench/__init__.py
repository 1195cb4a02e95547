"""Benchmarks (run as scripts: .venv/bin/python bench/<name>.py); a package so that
mypy tells bench/sync.py apart from the sync package."""
