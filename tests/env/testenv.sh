#!/usr/bin/env bash
# The real test environment, on a machine that reaches no container registry:
# a Dagger engine built from Go modules, a local registry on 127.0.0.1, and
# runtime-deps-like base images for linux/amd64 and linux/arm64 built with
# debootstrap and pushed there as one multi-arch reference.
#
#   tests/env/testenv.sh up       install what is missing, start it all, wait until the engine answers
#   tests/env/testenv.sh down     stop what `up` started (by PID or container id), nothing else
#   tests/env/testenv.sh status   say what runs
#   tests/env/testenv.sh env      print the exports that point the CLI, the SDK and the tests at it
#
# With RIE_ENGINE set to the runner host of an engine already running (e.g.
# docker-container://dagger-engine, a released engine started with host
# networking, the dagger CLI on PATH), `up` builds no engine and no SDK
# stand-in: it starts the local services (dockerd if none runs, registries,
# base images) and points `env` at that engine. CI on GitHub runs the
# real-engine tier this way, on Dagger's real engine and Python runtime.
#
# Two registries: RIE_REGISTRY without auth (base images, publishes) and
# RIE_AUTH_REGISTRY with htpasswd auth (user runner-image-test, a password
# made at each `up`), so tests can see a login accepted and a login refused.
#
# Must run as root (it installs Debian packages, starts dockerd, registers
# binfmt_misc). Everything is idempotent; a second `up` reuses the cached
# binaries, engine image and base images and takes seconds.
# Settings (environment): RIE_HOME (state, logs, cache; default
# /var/tmp/runner-image-testenv), RIE_REGISTRY (default 127.0.0.1:5000),
# RIE_AUTH_REGISTRY (default 127.0.0.1:5001).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
RIE_HOME=${RIE_HOME:-/var/tmp/runner-image-testenv}
RIE_REGISTRY=${RIE_REGISTRY:-127.0.0.1:5000}
RIE_AUTH_REGISTRY=${RIE_AUTH_REGISTRY:-127.0.0.1:5001}
RIE_ENGINE=${RIE_ENGINE:-}
auth_user=runner-image-test
run_dir="$RIE_HOME/run"
log_dir="$RIE_HOME/logs"
cache_dir="$RIE_HOME/cache"
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["engineVersion"])' "$repo/dagger.json")
engine_image="registry.dagger.io/engine:$version"
engine_name=runner-image-dagger-engine
engine_volume=runner-image-dagger-state
# The engine's API socket (its /run/dagger), mounted out of its container so
# clients connect to it directly instead of through a `docker exec` per
# connection (docker-container://): about 15% less CPU per `dagger call` here.
engine_socket_dir="$run_dir/engine-socket"
base_ref="$RIE_REGISTRY/runner-image-test/runtime-deps:bookworm"
# What runtime-deps:6.0 carries (bookworm), so the runner finds ICU, OpenSSL and Kerberos.
base_packages=libc6,libgcc-s1,libgssapi-krb5-2,libicu72,libssl3,libstdc++6,zlib1g,ca-certificates,tzdata
# isal (igzip) and pigz as in Dagger's own engine image: containerd unpacks gzip
# layers with igzip if found, else unpigz, else Go's slower gzip.
engine_packages=runc,iptables,dnsmasq-base,git,tini,containernetworking-plugins,ca-certificates,iproute2,isal,pigz
# The engine's garbage collector by size (/etc/dagger/engine.json). Its default wants 20% of the
# disk free: on a VM whose disk is larger than what it may fill (here 252 GB, 48 GB available) it
# prunes its cache every half minute through the whole suite, so tests redo work, and a session
# that is reusing the module's uploaded source can find it removed ("...source context: <id>:
# not found"). 25 GB of cache at most, and 5 GB of the disk left free, still bound it.
engine_config='{"gc": {"maxUsedSpace": "25GB", "minFreeSpace": "5GB", "reservedSpace": "10GB"}}'
# pigz: dockerd unpacks gzip layers with unpigz when it is on PATH (moby/moby#35697), so the
# bench's docker side gets its fast decompressor as the engine gets igzip.
host_packages=(docker.io docker-registry debootstrap qemu-user-static binfmt-support apache2-utils gpg pigz)
# The built-in Python SDK image (`dagger call` of a Python module): Debian's Python 3.11.
sdk_packages=python3
sdk_ref="$RIE_REGISTRY/runner-image-test/python-sdk"
# /usr/bin first: the docker client Debian ships matches its daemon.
docker=/usr/bin/docker

phase_start=0
phase() { phase_start=$(date +%s); echo "testenv: $1" >&2; }
phase_done() { echo "testenv:   done in $(( $(date +%s) - phase_start ))s" >&2; }
die() { echo "testenv: error: $*" >&2; exit 1; }
# The 12 hex digits a cached thing's name carries for the text it is made from (a package list, a config).
text_key() { echo "$1" | sha256sum | cut -c1-12; }

alive() { [ -f "$run_dir/$1.pid" ] && kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null; }

install_host_packages() {
  local missing=() p
  for p in "${host_packages[@]}"; do
    # A machine that brings its own Docker (a GitHub runner) keeps it.
    [ "$p" = docker.io ] && [ -n "$RIE_ENGINE" ] && $docker info >/dev/null 2>&1 && continue
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -q >"$log_dir/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log_dir/apt.log" 2>&1 \
      || die "apt-get install ${missing[*]} failed; see $log_dir/apt.log"
  fi
  command -v go >/dev/null || die "Go is needed to build the Dagger engine and crane"
  # crane (go-containerregistry) assembles and pushes the base images; its version is pins.toml's [tools] crane.
  local crane_version
  crane_version=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["tools"]["crane"])' \
    "$repo/pipelines/pins.toml")
  if [ ! -x "$cache_dir/bin/crane" ] || [ "$(cat "$cache_dir/bin/.crane.version" 2>/dev/null)" != "$crane_version" ]; then
    GOBIN="$cache_dir/bin" go install "github.com/google/go-containerregistry/cmd/crane@v$crane_version" \
      >>"$log_dir/go-install.log" 2>&1 || die "go install crane failed; see $log_dir/go-install.log"
    echo "$crane_version" >"$cache_dir/bin/.crane.version"
  fi
}

start_dockerd() {
  if $docker info >/dev/null 2>&1; then return; fi
  nohup dockerd --pidfile "$run_dir/dockerd.pid.docker" >"$log_dir/dockerd.log" 2>&1 &
  echo $! >"$run_dir/dockerd.pid"
  for _ in $(seq 60); do $docker info >/dev/null 2>&1 && return; sleep 0.5; done
  die "dockerd did not answer in 30s; see $log_dir/dockerd.log"
}

# start_registry NAME ADDR [AUTH_CONFIG]: docker-registry on ADDR, its PID in run/NAME.pid.
start_registry() {
  local name=$1 addr=$2 auth=${3:-}
  if alive "$name"; then return; fi
  if curl -sS "http://$addr/v2/" >/dev/null 2>&1; then
    die "something else already serves $addr; set RIE_REGISTRY / RIE_AUTH_REGISTRY to a free 127.0.0.1 port"
  fi
  mkdir -p "$RIE_HOME/$name"
  cat >"$run_dir/$name.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $RIE_HOME/$name
  delete:
    enabled: true
http:
  addr: $addr
$auth
EOF
  nohup docker-registry serve "$run_dir/$name.yml" >"$log_dir/$name.log" 2>&1 &
  echo $! >"$run_dir/$name.pid"
  for _ in $(seq 40); do curl -sS "http://$addr/v2/" >/dev/null 2>&1 && return; sleep 0.25; done
  die "the registry did not answer on $addr; see $log_dir/$name.log"
}

start_registries() {
  start_registry registry "$RIE_REGISTRY"
  if ! alive auth-registry; then
    # A fresh password at every start; only the tests read it, from this file.
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$run_dir/auth-password")
    htpasswd -Bbn "$auth_user" "$(cat "$run_dir/auth-password")" >"$run_dir/htpasswd" 2>/dev/null
  fi
  start_registry auth-registry "$RIE_AUTH_REGISTRY" "auth:
  htpasswd:
    realm: runner-image-test
    path: $run_dir/htpasswd"
}

register_binfmt() {
  [ "$(uname -m)" = aarch64 ] && return
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e "$entry" ] || update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  [ -e "$entry" ] || die "qemu-aarch64 is not registered with binfmt_misc; arm64 containers cannot run"
  # Debian registers qemu-aarch64 with flags PF. The image's passwordless sudo
  # is setuid, which under emulation also needs C (run with the binary's
  # credentials), so re-register the same entry with POCF.
  if ! grep -q '^flags: .*C' "$entry"; then
    local interpreter magic mask
    interpreter=$(sed -n 's/^interpreter //p' "$entry")
    magic=$(sed -n 's/^magic //p' "$entry" | sed 's/../\\x&/g')
    mask=$(sed -n 's/^mask //p' "$entry" | sed 's/../\\x&/g')
    echo -1 >"$entry"
    printf ':qemu-aarch64:M:0:%s:%s:%s:POCF' "$magic" "$mask" "$interpreter" >/proc/sys/fs/binfmt_misc/register
  fi
  grep -q '^flags: .*F' "$entry" || die "qemu-aarch64 is registered without flag F; arm64 containers cannot run"
}

# debootstrap ROOTFS_TAR ARCH PACKAGES: a cached minbase bookworm rootfs as a tarball.
rootfs_tar() {
  local tar=$1 arch=$2 packages=$3
  [ -s "$tar" ] && return
  local dir
  dir=$(mktemp -d "$RIE_HOME/rootfs.XXXXXX")
  local log="$log_dir/debootstrap-$(basename "$tar" .tar).log"  # the base's and the SDK's amd64 run at once
  debootstrap --variant=minbase --arch="$arch" --include="$packages" bookworm "$dir" >"$log" 2>&1 \
    || { remove_rootfs "$dir"; die "debootstrap $arch failed; see $log"; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" --numeric-owner -cf "$tar.tmp" .
  mv "$tar.tmp" "$tar"
  remove_rootfs "$dir"
}

# A debootstrap cut short leaves its chroot's /proc (and /sys) mounted: unmount what is
# under DIR, then remove it without crossing into another file system.
remove_rootfs() {
  local dir=$1 mount
  # (grep finds nothing when nothing is mounted, the usual case: not a failure under pipefail)
  { findmnt -rn -o TARGET | grep "^$dir/" || true; } | sort -r | while read -r mount; do umount -l "$mount"; done
  rm -rf --one-file-system "$dir"
}

# The process tree under PID, stopped: up's background builds when up itself stops early.
stop_tree() {
  local pid=$1 child
  for child in $(pgrep -P "$pid"); do stop_tree "$child"; done
  kill "$pid" 2>/dev/null || true
}

# The engine's built-in Python SDK (tests/env/sdk): a one-layer OCI image of Debian's
# python3, uv and the Dang runtime module, with a wheelhouse checked against
# tests/env/sdk/requirements.txt's hashes, and uv's cache filled from the module's uv.lock.
# Written as an OCI layout under the cache, keyed by its inputs; its folder is written to
# run/python-sdk (manifest digest in ./digest).
build_python_sdk() {
  local key out wheels dir
  key=$( (echo "$sdk_packages"; cat "$repo/tests/env/sdk/requirements.txt" "$repo/uv.lock" "$repo"/tests/env/sdk/*.py "$repo"/tests/env/sdk/runtime/*) | sha256sum | cut -c1-12)
  out="$cache_dir/python-sdk-$key"
  if [ -s "$out/digest" ]; then echo "$out" >"$run_dir/python-sdk"; return; fi
  wheels="$cache_dir/wheels-$(sha256sum "$repo/tests/env/sdk/requirements.txt" | cut -c1-12)"
  if [ ! -d "$wheels" ]; then
    python3 -m pip download -q --disable-pip-version-check --require-hashes --no-deps --only-binary=:all: \
        -r "$repo/tests/env/sdk/requirements.txt" -d "$wheels.tmp" >"$log_dir/wheels.log" 2>&1 \
      || die "downloading the Python SDK wheelhouse failed; see $log_dir/wheels.log"
    mv "$wheels.tmp" "$wheels"
  fi
  local rootfs="$cache_dir/sdk-rootfs-$(text_key "$sdk_packages").tar"
  rootfs_tar "$rootfs" amd64 "$sdk_packages"
  dir=$(mktemp -d "$RIE_HOME/python-sdk.XXXXXX")
  tar -xf "$rootfs" -C "$dir"
  # A system Python that uv may install into, as python:<version>-slim is:
  # Debian marks its own as externally managed (PEP 668).
  rm -f "$dir"/usr/lib/python3*/EXTERNALLY-MANAGED
  python3 "$repo/tests/env/sdk/assemble.py" "$wheels" "$dir" || die "assembling the Python SDK image failed"
  seed_uv_cache "$dir"
  tar -C "$dir" --numeric-owner -cf "$dir.tar" .
  rm -rf "$dir"
  local crane="$cache_dir/bin/crane"
  {
    $crane append --insecure --oci-empty-base -f "$dir.tar" -t "$sdk_ref:layer-$key" \
      && $crane mutate --insecure --set-platform linux/amd64 -t "$sdk_ref:$key" "$sdk_ref:layer-$key" \
      && rm -rf "$out.tmp" && $crane pull --insecure --format=oci "$sdk_ref:$key" "$out.tmp" \
      && $crane digest --insecure "$sdk_ref:$key" >"$out.tmp/digest"
  } >>"$log_dir/crane.log" 2>&1 || die "writing the Python SDK image failed; see $log_dir/crane.log"
  rm -f "$dir.tar"
  rm -rf "$out"
  mv "$out.tmp" "$out"
  echo "$out" >"$run_dir/python-sdk"
}

# uv's cache in the SDK image (opt/python-sdk/uv-cache) holding every package the module's
# uv.lock installs, fetched by uv from the lock's own URLs and checked against its hashes.
# The stand-in points `uv lock` and `uv sync` at it, offline: they install exactly what
# the committed lock names, as Dagger's runtime does from the index.
seed_uv_cache() {
  local dir=$1 project
  project=$(mktemp -d "$RIE_HOME/uv-lock.XXXXXX")
  cp "$repo/pyproject.toml" "$repo/uv.lock" "$project/" && cp -r "$dir/opt/python-sdk/sdk" "$project/sdk"
  # The project and the vendored SDK are built in the runtime, from the wheelhouse's backends.
  # UV_NATIVE_TLS: trust the system's certificate store, as pip and curl do here (uv's own
  # roots refuse a network whose proxy signs with a CA only that store holds).
  UV_CACHE_DIR="$dir/opt/python-sdk/uv-cache" UV_PROJECT_ENVIRONMENT="$project/venv" UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never UV_NATIVE_TLS=1 "$dir/usr/local/bin/uv" sync --frozen --no-dev --no-install-project \
    --no-install-package dagger-io --project "$project" >"$log_dir/uv-cache.log" 2>&1 \
    || die "filling uv's cache from uv.lock failed; see $log_dir/uv-cache.log"
  rm -rf "$project"
}

# The Dagger CLI and engine binaries (tests/env/engine/build.sh, cached by version); their folder in run/dagger-bin.
build_engine_binaries() {
  local bin
  bin=$(bash "$here/engine/build.sh" "$cache_dir" 2>>"$log_dir/engine-build.log") \
    || die "building the Dagger engine failed; see $log_dir/engine-build.log"
  echo "$bin" >"$run_dir/dagger-bin"
}

engine_rootfs() { echo "$cache_dir/engine-rootfs-$(text_key "$engine_packages").tar"; }

build_engine_image() {
  local bin key rootfs sdk sdk_digest packages_key
  bin=$(cat "$run_dir/dagger-bin")
  sdk=$(cat "$run_dir/python-sdk")
  sdk_digest=$(cat "$sdk/digest")
  packages_key=$(text_key "$engine_packages")
  key="$(basename "$(dirname "$bin")")-python-sdk-${sdk_digest#sha256:}-packages-$packages_key-config-$(text_key "$engine_config")"
  if [ "$($docker image inspect -f '{{ index .Config.Labels "runner-image.engine-key" }}' "$engine_image" 2>/dev/null)" = "$key" ]; then
    return
  fi
  rootfs=$(engine_rootfs)
  rootfs_tar "$rootfs" amd64 "$engine_packages"  # up made it meanwhile; here when it did not
  local layer
  layer=$(mktemp -d "$RIE_HOME/engine-layer.XXXXXX")
  tar -xf "$rootfs" -C "$layer"
  mkdir -p "$layer/opt/cni/bin" "$layer/etc/dagger" "$layer/var/lib/dagger"
  install -m755 "$bin/dagger-engine" "$bin/dagger-init" "$bin/dagger" "$bin/buildctl" "$layer/usr/local/bin/"
  install -m755 "$bin/dnsname" "$layer/opt/cni/bin/"
  # Where the engine looks for its helpers (the distconsts stand-in's paths).
  ln -sf /usr/sbin/runc "$layer/usr/local/bin/runc"
  for p in bridge loopback firewall host-local; do ln -sf "/usr/lib/cni/$p" "$layer/opt/cni/bin/$p"; done
  for x in xtables-legacy-multi xtables-nft-multi; do ln -sf "/usr/sbin/$x" "$layer/usr/bin/$x"; done
  printf 'debug = false\n' >"$layer/etc/dagger/engine.toml"
  printf '%s\n' "$engine_config" >"$layer/etc/dagger/engine.json"
  # The built-in SDK content store the engine reads its Python SDK from
  # (EngineContainerBuiltinContentDir), announced by its manifest digest.
  mkdir -p "$layer/usr/local/share/dagger/content"
  cp -r "$sdk/blobs" "$layer/usr/local/share/dagger/content/"
  tar -C "$layer" --numeric-owner -c . \
    | $docker import \
        --change 'ENTRYPOINT ["/usr/bin/tini","--","/usr/local/bin/dagger-engine","--config","/etc/dagger/engine.toml"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "ENV DAGGER_PYTHON_SDK_MANIFEST_DIGEST=$sdk_digest" \
        --change "LABEL runner-image.engine-key=$key" \
        - "$engine_image" >/dev/null
  rm -rf "$layer"
}

# The engine stopped cleanly: TERM, and time to write its cache's state out. Dagger
# 0.21.8 keeps its dagql cache on disk only through a clean shutdown; after a kill (docker rm -f)
# its next start logs "dagql persistence store marked unclean; wiping and cold-starting" and resets
# the worker's cache with it, so the next run of the suite starts on an empty engine.
stop_engine() {
  local container=$1
  $docker stop --time 300 "$container" >/dev/null 2>&1 || true
  $docker rm -f "$container" >/dev/null 2>&1
}

start_engine() {
  # A running engine is kept only if it runs the current engine image (a new
  # built-in SDK or engine build replaces it; its state volume stays).
  if [ -n "$($docker ps -q --filter "name=^${engine_name}$")" ] \
    && [ "$($docker inspect -f '{{.Image}}' "$engine_name")" = "$($docker image inspect -f '{{.Id}}' "$engine_image")" ] \
    && [ -S "$engine_socket_dir/engine.sock" ]; then
    return
  fi
  stop_engine "$engine_name" || true
  mkdir -p "$engine_socket_dir"
  # Not --privileged: this VM's bounding set lacks CAP_SYS_RESOURCE, and runc
  # refuses a container asked to hold it. All other capabilities, no
  # seccomp/AppArmor filter, all devices and writable cgroups are what the
  # engine needs to run containers of its own. Host networking lets it reach
  # the registry and the fixture server on 127.0.0.1.
  $docker run -d --name "$engine_name" \
    --cap-add ALL --cap-drop SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --device-cgroup-rule 'a *:* rwm' -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --network host -v "$engine_volume:/var/lib/dagger" -v "$engine_socket_dir:/run/dagger" \
    "$engine_image" >"$run_dir/engine.cid"
}

# RIE_ENGINE's address; else our engine's socket where this user may use it; else through docker.
runner_host() {
  if [ -f "$run_dir/runner-host" ]; then cat "$run_dir/runner-host"
  elif [ -S "$engine_socket_dir/engine.sock" ] && [ -w "$engine_socket_dir/engine.sock" ]; then
    echo "unix://$engine_socket_dir/engine.sock"
  else echo "docker-container://$engine_name"; fi
}

# The engine's container, for tests that reach it through Docker: ours, or RIE_ENGINE's when it is docker-container://.
engine_container() {
  local host
  host=$(runner_host)
  if [ ! -f "$run_dir/runner-host" ]; then echo "$engine_name"
  elif [ "${host#docker-container://}" != "$host" ]; then echo "${host#docker-container://}"; fi
}

use_running_engine() {
  local cli
  cli=$(command -v dagger) || die "RIE_ENGINE=$RIE_ENGINE: expected the dagger CLI on PATH, found none"
  dirname "$cli" >"$run_dir/dagger-bin"
  echo "$RIE_ENGINE" >"$run_dir/runner-host"
}

wait_for_engine() {
  local bin host
  bin=$(cat "$run_dir/dagger-bin")
  host=$(runner_host)
  for _ in $(seq 60); do
    # From a folder without dagger.json, so the probe loads no module.
    if (cd "$RIE_HOME" && echo '{ version }' | _EXPERIMENTAL_DAGGER_RUNNER_HOST="$host" DO_NOT_TRACK=1 \
        timeout 20 "$bin/dagger" query --progress=plain >"$log_dir/engine-probe.log" 2>&1); then
      return
    fi
    sleep 1
  done
  $docker logs "$engine_name" >"$log_dir/engine.log" 2>&1 || true
  die "the engine did not answer in 60s; see $log_dir/engine-probe.log and $log_dir/engine.log"
}

# The base images' rootfs tarballs, one per arch (cached by their package list).
base_rootfs_tars() {
  local arch key
  key=$(text_key "$base_packages")
  for arch in amd64 arm64; do rootfs_tar "$cache_dir/base-$arch-$key.tar" "$arch" "$base_packages"; done
}

push_base_images() {
  local crane="$cache_dir/bin/crane" key refs=() arch
  key=$(text_key "$base_packages")
  if [ "$(cat "$run_dir/base.key" 2>/dev/null)" = "$key" ] && $crane manifest --insecure "$base_ref" >/dev/null 2>&1; then
    return
  fi
  for arch in amd64 arm64; do
    local tar="$cache_dir/base-$arch-$key.tar"
    rootfs_tar "$tar" "$arch" "$base_packages"
    $crane append --insecure --oci-empty-base -f "$tar" -t "$base_ref-$arch-layer" >>"$log_dir/crane.log" 2>&1
    $crane mutate --insecure --set-platform "linux/$arch" \
      -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      -t "$base_ref-$arch" "$base_ref-$arch-layer" >>"$log_dir/crane.log" 2>&1
    refs+=(-m "$base_ref-$arch")
  done
  $crane index append --insecure "${refs[@]}" -t "$base_ref" >>"$log_dir/crane.log" 2>&1 \
    || die "pushing the base index failed; see $log_dir/crane.log"
  echo "$key" >"$run_dir/base.key"
}

print_env() {
  local bin
  bin=$(cat "$run_dir/dagger-bin" 2>/dev/null) || die "not up: run tests/env/testenv.sh up"
  cat <<EOF
export _EXPERIMENTAL_DAGGER_RUNNER_HOST=$(runner_host)
export RIE_ENGINE_CONTAINER=$(engine_container)
export _EXPERIMENTAL_DAGGER_CLI_BIN=$bin/dagger
export PATH=$bin:\$PATH
export DO_NOT_TRACK=1
export RIE_REGISTRY=$RIE_REGISTRY
export RIE_BASE_IMAGE=$base_ref
export RIE_AUTH_REGISTRY=$RIE_AUTH_REGISTRY
export RIE_AUTH_USER=$auth_user
export RIE_AUTH_PASSWORD_FILE=$run_dir/auth-password
EOF
}

up() {
  local t0
  t0=$(date +%s)
  [ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts dockerd)"
  mkdir -p "$run_dir" "$log_dir" "$cache_dir"
  phase "packages (${host_packages[*]}, crane)"; install_host_packages; phase_done
  phase "dockerd"; start_dockerd; phase_done
  phase "registries on $RIE_REGISTRY and $RIE_AUTH_REGISTRY (auth)"; start_registries; phase_done
  phase "binfmt_misc for arm64"; register_binfmt; phase_done
  # The long steps in parallel: the engine's Go build keeps the CPU busy while
  # the debootstraps (base images, SDK image) mostly wait on Debian's mirror
  # and the disk. A job that fails has said why (die); up stops then.
  # Not local: the EXIT trap runs after up's own variables are gone.
  base_job="" engine_job="" engine_rootfs_job=""
  base_rootfs_tars & base_job=$!
  # Should up stop early (a step's die), its background builds stop with it, not write on.
  trap 'for job in "$base_job" "$engine_job" "$engine_rootfs_job"; do [ -z "$job" ] || stop_tree "$job"; done' EXIT
  if [ -n "$RIE_ENGINE" ]; then
    phase "the engine already running at $RIE_ENGINE"; use_running_engine; wait_for_engine; phase_done
  else
    rm -f "$run_dir/runner-host"
    build_engine_binaries & engine_job=$!
    # The engine image's rootfs beside the engine's Go build, not after it: on a new machine that
    # debootstrap (about a minute, mostly Debian's mirror) was the last step before the engine starts.
    rootfs_tar "$(engine_rootfs)" amd64 "$engine_packages" & engine_rootfs_job=$!
    phase "built-in Python SDK image (tests/env/sdk), the engine binaries and the base and engine rootfs building meanwhile"
    build_python_sdk; phase_done
    phase "Dagger $version binaries and engine image"
    wait "$engine_job" || exit 1
    wait "$engine_rootfs_job" || exit 1
    build_engine_image; phase_done
    phase "engine container"; start_engine; wait_for_engine; phase_done
  fi
  phase "base images -> $base_ref"; wait "$base_job" || exit 1; push_base_images; phase_done
  trap - EXIT
  echo "testenv: up in $(( $(date +%s) - t0 ))s" >&2
}

stop_pid() {
  local name=$1
  if alive "$name"; then
    local pid
    pid=$(cat "$run_dir/$name.pid")
    kill "$pid"
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    echo "testenv: stopped $name ($pid)" >&2
  fi
  rm -f "$run_dir/$name.pid"
}

down() {
  if [ -f "$run_dir/engine.cid" ]; then
    stop_engine "$(cat "$run_dir/engine.cid")" && echo "testenv: stopped the engine (its cache kept) and removed its container" >&2 || true
    rm -f "$run_dir/engine.cid"
  fi
  stop_pid registry
  stop_pid auth-registry
  stop_pid dockerd
  local left  # a rootfs an up cut short left behind
  for left in "$RIE_HOME"/rootfs.*; do [ ! -d "$left" ] || remove_rootfs "$left"; done
}

status() {
  local rc=0
  if alive dockerd; then echo "dockerd: running (pid $(cat "$run_dir/dockerd.pid"), started by testenv)";
  elif $docker info >/dev/null 2>&1; then echo "dockerd: running (not started by testenv)";
  else echo "dockerd: not running"; rc=1; fi
  if alive registry; then echo "registry: running on $RIE_REGISTRY (pid $(cat "$run_dir/registry.pid"))"; else echo "registry: not running"; rc=1; fi
  if alive auth-registry; then echo "auth registry: running on $RIE_AUTH_REGISTRY (pid $(cat "$run_dir/auth-registry.pid"))"; else echo "auth registry: not running"; rc=1; fi
  if [ -n "$($docker ps -q --filter "name=^${engine_name}$" 2>/dev/null)" ]; then echo "engine: running ($engine_name, $engine_image)"; else echo "engine: not running"; rc=1; fi
  return $rc
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: tests/env/testenv.sh up|down|status|env" >&2; exit 2 ;;
esac
