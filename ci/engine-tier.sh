#!/usr/bin/env bash
# The real-engine tier on an engine that is already running: on GitHub, Dagger's
# released engine and its real Python runtime, so the answers of our runtime
# stand-in (ci/sdk, what .ci/run tests against) are checked against the real
# one on every push. ci/testenv.sh brings up the local services only (no engine
# build), then the tier runs against them. Extra arguments go to pytest.
# Reads RIE_ENGINE: the engine's runner host, e.g. docker-container://dagger-engine
# (started with host networking: the fixtures and registries are on 127.0.0.1).
# Run as root, with the dagger CLI on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${RIE_ENGINE:?RIE_ENGINE: expected the runner host of a running engine, e.g. docker-container://dagger-engine}"
export CI=${CI:-true}
trap 'bash ci/testenv.sh down' EXIT
bash ci/testenv.sh up
eval "$(bash ci/testenv.sh env)"
python3 -m pytest tests/engine "$@"
