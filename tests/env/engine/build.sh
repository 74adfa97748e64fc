#!/usr/bin/env bash
# Build the Dagger CLI and engine binaries at the version dagger.json pins,
# from the Go modules the Go module proxy serves, into a cache folder keyed by
# that version and by the inputs below. Prints the folder holding the binaries.
#
#   tests/env/engine/build.sh [CACHE_ROOT]
#
# Why this is more than `go install`: github.com/dagger/dagger's go.mod
# replaces two nested modules with paths inside its repository, and the proxy
# leaves nested modules out of the root module's zip. dagger.io/dagger (the Go
# SDK) is served with tags, so it is put back where the replace points.
# engine/distconsts is served at no version, so tests/env/engine/standins/distconsts
# takes its place (constants naming paths in the engine image that
# tests/env/testenv.sh assembles). Four modules by vito@ are pinned in go.mod at
# versions the proxy refuses; the nearest versions it serves are required
# instead (MODULE_BUMPS), and github.com/vito/tuist/teav1 (a bubbletea adapter
# for the CLI's interactive prompts) is served at no version, so
# tests/env/engine/standins/teav1 takes its place.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["engineVersion"])' "$repo/dagger.json")
cache_root=${1:-${RIE_CACHE:-/var/cache/runner-image}}

# Served versions replacing the ones dagger v0.21.8's go.mod asks for.
MODULE_BUMPS=(
  github.com/vito/tuist@v0.0.10       # wants v0.0.6: its go.mod is refused
  github.com/vito/dang/v2@v2.1.3      # wants v2.1.1: refused
  github.com/vito/midterm@v0.2.5      # wants a v0.2.5 pre-release commit: refused
)
BINARIES=(dagger dagger-engine dagger-init buildctl dnsname)

key=$(cat "$0" "$here"/standins/*/* | sha256sum | cut -c1-12)
out="$cache_root/dagger-$version-$key"
have_all() { for b in "${BINARIES[@]}"; do [ -x "$out/bin/$b" ] || return 1; done; }
if have_all; then
  echo "$out/bin"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: Go is needed to build the Dagger engine (go on PATH)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/dagger-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0
# The checksum database the proxy relays has no entry for the vito@ versions
# above (it answers 404); every other module is still verified against it,
# and go.sum pins the rest.
export GONOSUMDB=github.com/vito

module_dir() { (cd "$work" && go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["Error"]) if "Error" in d else print(d["Dir"])'); }

echo "build.sh: fetching github.com/dagger/dagger@$version from the Go module proxy" >&2
src="$work/src"
cp -r "$(module_dir "github.com/dagger/dagger@$version")" "$src"
chmod -R u+w "$src"
mkdir -p "$src/sdk" "$src/engine"
cp -r "$(module_dir "dagger.io/dagger@$version")" "$src/sdk/go"
chmod -R u+w "$src/sdk/go"
cp -r "$here/standins/distconsts" "$src/engine/distconsts"
cp -r "$here/standins/teav1" "$work/teav1"

cd "$src"
bumps=()
for m in "${MODULE_BUMPS[@]}"; do bumps+=("-require=$m"); done
go mod edit "${bumps[@]}" \
  -require=github.com/vito/tuist/teav1@v0.0.0-00010101000000-000000000000 \
  -replace=github.com/vito/tuist/teav1=../teav1

ldflags="-s -w -X github.com/dagger/dagger/engine.Version=$version -X github.com/dagger/dagger/engine.Tag=$version"
tags=dfexcludepatterns,dfparents
mkdir -p "$work/bin"
echo "build.sh: compiling (about 5 minutes on 2 cores the first time)" >&2
go build -tags "$tags" -ldflags "$ldflags" -o "$work/bin/dagger" ./cmd/dagger
go build -tags "$tags" -ldflags "$ldflags" -o "$work/bin/dagger-engine" ./cmd/engine
go build -ldflags "-s -w" -o "$work/bin/dagger-init" ./cmd/init
# The CLI reaches an engine container by running `buildctl dial-stdio` in it.
go build -ldflags "-s -w" -o "$work/bin/buildctl" ./cmd/dialstdio
go build -ldflags "-s -w" -o "$work/bin/dnsname" ./cmd/dnsname

mkdir -p "$cache_root"
rm -rf "$out"
mkdir -p "$out"
mv "$work/bin" "$out/bin"
echo "$out/bin"
