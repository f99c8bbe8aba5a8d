#!/usr/bin/env bash
# Installs what the integration tiers need: Debian's prometheus and docker-registry (real discovery
# backends), openssl and apache2-utils (certificates, htpasswd), and the Kubernetes control plane built
# from the Go module proxy (cached). Missing rights or tools make the dependent tests skip, with a
# reason, rather than fail here.
set -uo pipefail
cd "$(dirname "$0")/.."

packages=(prometheus docker-registry apache2-utils openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") \
      >/tmp/drop-setup-apt.log 2>&1 || echo "setup: apt-get failed (see /tmp/drop-setup-apt.log); dependent tests will skip"
  else
    echo "setup: not root; install ${missing[*]} to run the real-backend tests"
  fi
fi
# Debian starts these services on install; the tests start their own instances.
for svc in prometheus docker-registry; do
  (command -v systemctl >/dev/null && systemctl stop "$svc") >/dev/null 2>&1 || true
done

if [ -x .ci/build_control_plane.sh ]; then
  if command -v go >/dev/null; then
    .ci/build_control_plane.sh || echo "setup: control-plane build failed; the real control-plane tier will skip"
  else
    echo "setup: no Go toolchain; the real control-plane tier will skip"
  fi
fi
