"""`nox -s bench`: the figures of issue 7, each a ratio against a baseline measured in the same run.

Run ``python -m bench.run --help`` from the repository root. Results go to
``bench-results/latest.json`` and ``bench-results/latest.md`` (gitignored).
"""
