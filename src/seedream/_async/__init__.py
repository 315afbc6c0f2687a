"""The clients whose sync and async forms are one code: written by hand in ``_async/``, generated into ``_sync/``.

``scripts/unasync.py`` does the transformation (``scripts/regenerate.py`` runs it and ``--check`` guards it);
``_primitives`` is the one module written twice, where the two sides truly differ.
"""
