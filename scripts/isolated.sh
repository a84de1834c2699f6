#!/usr/bin/env bash
# Runs a command in a private network namespace with only loopback, where the
# system allows it, so the tests' OAuth callback servers get 127.0.0.1:8400-8404
# to themselves: a sign-in waiting on this machine, or another test run, cannot
# take those ports from them (nor they from it). Nothing in the tests needs
# another host. Where no namespace can be made (not root, no unshare or ip),
# one line says so and the command runs as it is: the ports must then be free.
#
#   scripts/isolated.sh COMMAND [ARGS...]
set -euo pipefail

reason=''
if [ "${PIPECAT_TEST_SHARED_NETWORK:-}" = 1 ]; then
  reason='PIPECAT_TEST_SHARED_NETWORK=1'
elif [ "$(id -u)" -ne 0 ]; then
  reason='making one needs root'
elif ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
  reason='unshare or ip (util-linux, iproute2) is missing'
elif ! unshare --net true 2>/dev/null; then
  reason='the system refuses unshare --net'
fi

if [ -n "$reason" ]; then
  echo "Tests run on this machine's network ($reason): the OAuth callback ports 127.0.0.1:8400-8404 must be free." >&2
  exec "$@"
fi

exec unshare --net -- bash -c 'ip link set lo up && exec "$@"' isolated "$@"
