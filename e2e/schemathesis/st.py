"""The schemathesis command line, with one workaround for CPython 3.11.

Hypothesis describes the filter functions schemathesis builds by parsing
their source with `ast`; CPython 3.11 before 3.11.9 can fail that parse at
some call depths with `SystemError: AST constructor recursion depth
mismatch` (a CPython bug, fixed in later releases), which schemathesis
reports as a runtime error of the operation being generated. The
description is only a label, so on that error it falls back to the label
Hypothesis itself uses for a lambda it cannot read.
"""

import sys

from hypothesis.internal import lambda_sources
from schemathesis.cli import schemathesis

_describe = lambda_sources._lambda_description


def _lambda_description(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


if sys.version_info < (3, 12):
    lambda_sources._lambda_description = _lambda_description

if __name__ == "__main__":
    sys.argv[0] = "schemathesis"
    sys.exit(schemathesis())
