#!/usr/bin/env bash
echo "make demo: not built yet — it needs the testbed (issue 3), the dask plugin and the quickstart example (issue 8)." >&2
exit 1
