#!/usr/bin/env bash
# The real-engine tier on an engine that is already running: on GitHub, Dagger's
# released engine and its real Python runtime, so the answers of our runtime
# stand-in (tests/env/sdk, what .ci/run tests against) are checked against the real
# one on every push. tests/env/testenv.sh brings up the local services only (no engine
# build), then the tier runs against them. Extra arguments go to pytest.
# Reads RIE_ENGINE: the engine's runner host, e.g. docker-container://dagger-engine
# (started with host networking: the fixtures and registries are on 127.0.0.1).
# Run as root, with the dagger CLI on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${RIE_ENGINE:?RIE_ENGINE: expected the runner host of a running engine, e.g. docker-container://dagger-engine}"
export CI=${CI:-true}
trap 'bash tests/env/testenv.sh down' EXIT
bash tests/env/testenv.sh up
eval "$(bash tests/env/testenv.sh env)"
python3 -m pytest tests/engine "$@"
