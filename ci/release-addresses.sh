#!/usr/bin/env bash
# The publish addresses of both CI jobs, as GITHUB_OUTPUT lines (the workflow appends them there):
#   image=<registry>/<owner>/<repo>                 what the attestations name
#   staging=<image>:staging-<commit>               prefix of the image job's per-arch tags
#   source=<server>/<owner>/<repo>                 the org.opencontainers.image.source label
#   hosted=--address <image>:<runner version> [--address <image>:latest]
#   minimal=--address <image>:<runner version>-minimal
# `latest` only when the push is to the default branch (not for v* tags).
# Reads REGISTRY, REPOSITORY, GITHUB_SERVER_URL, GITHUB_SHA, GITHUB_REF, DEFAULT_BRANCH; the
# runner version is the one pinned in pipelines/pins.toml (what the module
# builds), unless RUNNER_VERSION overrides it.
set -euo pipefail
cd "$(dirname "$0")/.."
pinned=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["runner"]["version"])' pipelines/pins.toml)
version=${RUNNER_VERSION:-$pinned}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || {
  echo "release-addresses: runner version: expected MAJOR.MINOR.PATCH, found '$version'; check [runner] version in pipelines/pins.toml" >&2
  exit 1
}
image="${REGISTRY}/${REPOSITORY,,}"  # registries want a lowercase repository
hosted="--address ${image}:${version}"
if [ "$GITHUB_REF" = "refs/heads/${DEFAULT_BRANCH}" ]; then
  hosted="${hosted} --address ${image}:latest"
fi
echo "image=${image}"
echo "staging=${image}:staging-${GITHUB_SHA}"
echo "source=${GITHUB_SERVER_URL}/${REPOSITORY}"
echo "hosted=${hosted}"
echo "minimal=--address ${image}:${version}-minimal"
