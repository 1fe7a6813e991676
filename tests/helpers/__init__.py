"""Shared test helpers (not test modules): fake body models, fake dataset files, tiny
weight bundles and an in-process CLI runner.  Tests import them as ``helpers.<module>``
(pytest puts tests/ on ``sys.path`` through tests/conftest.py); fixtures built on them
live in tests/conftest.py."""
