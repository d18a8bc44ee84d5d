"""Loaded by the schemathesis run only (PYTHONPATH=.ci/python).

CPython 3.11 before 3.11.8 can raise `SystemError: AST constructor recursion depth mismatch`
(python/cpython#106905) when `ast.parse` runs deep in a call stack. Hypothesis parses source files
only to *describe* a lambda in a strategy's repr, and schemathesis then reports the whole operation
as a flaky runtime error. A description that cannot be produced is replaced by Hypothesis's own
placeholder; nothing about what is generated or checked changes.
"""

import sys

if sys.version_info[:2] == (3, 11) and sys.version_info < (3, 11, 8):
    try:
        from hypothesis.internal import lambda_sources

        _describe = lambda_sources._lambda_description

        def _lambda_description(f, *args, **kwargs):
            try:
                return _describe(f, *args, **kwargs)
            except SystemError:
                return "lambda: <unknown>"

        lambda_sources._lambda_description = _lambda_description
    except Exception:  # Hypothesis not installed in this interpreter: nothing to work around.
        pass
