#!/usr/bin/env bash
# Installs the benchmark peers: nginx, wrk and hey (Debian), Go to build the
# plan's tester, and Locust in its own venv (so it never touches ours).
set -euo pipefail
cd "$(dirname "$0")"
work=.work
mkdir -p "$work"
need=()
for pair in nginx:nginx-light wrk:wrk hey:hey go:golang-go; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[ -d /usr/share/gocode/src/github.com/google/uuid ] || need+=(golang-github-google-uuid-dev)
[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ] || need+=(libnginx-mod-http-echo)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# nginx's Debian package may start a system instance on :80; the bench runs its own.
if [ ! -x "$work/locust-venv/bin/locust" ]; then
  python3 -m venv "$work/locust-venv"
  "$work/locust-venv/bin/pip" install -q locust
fi
shared=${SHARED:-../../shared}
if [ ! -x "$work/seed-go" ] && [ -x "$shared/bench/seed-go/build.sh" ]; then
  bash "$shared/bench/seed-go/build.sh" "$work/seed-go" || echo "seed-go build failed"
fi
echo "bench peers ready"
