#!/usr/bin/env bash
# The index digests to attest, as GITHUB_OUTPUT lines hosted=sha256:... and
# minimal=sha256:..., from what `merge` printed (HOSTED, MINIMAL: address@sha256:...).
set -euo pipefail
for layout in hosted minimal; do
  var=${layout^^}
  printed=$(printf '%s' "${!var}" | tr -d '[:space:]')
  digest=${printed##*@}
  if ! [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]]; then
    echo "release-digests: ${layout}: expected merge to print <address>@sha256:<64 hex>, found '${printed}'; see the merge step's log" >&2
    exit 1
  fi
  echo "${layout}=${digest}"
done
