"""kubernetes-validate, reading each schema file once per run.

The tool re-reads and re-parses its 1.31 `_definitions.json` for every object it validates
(`kubernetes_validate.utils.schema_contents`); the tests validate hundreds of objects per
run, so this wrapper memoises that one function and runs the tool's own `main` unchanged:
the same schemas, the same validator, the same report and exit code.
"""
import functools
import sys

import kubernetes_validate.utils as utils
from kubernetes_validate.__main__ import main

utils.schema_contents = functools.lru_cache(maxsize=None)(utils.schema_contents)
sys.exit(main())
