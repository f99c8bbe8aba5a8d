#!/usr/bin/env bash
# Builds a Kubernetes control plane for the real-control-plane test tier, from source, through the Go
# module proxy only: kube-apiserver, kube-controller-manager and kubectl from k8s.io/kubernetes, etcd from
# go.etcd.io/etcd/server/v3, and helm from helm.sh/helm/v3. Nothing prebuilt is downloaded.
#
# Binaries are cached, keyed by version, in a directory laid out like envtest's assets:
#   $DROP_ASSETS_DIR/k8s/<k8s version>-linux-amd64/{kube-apiserver,kube-controller-manager,kubectl,etcd}
#   $DROP_ASSETS_DIR/helm/<helm version>-linux-amd64/helm
# with the Go module and build caches under $DROP_ASSETS_DIR/go so rebuilds are incremental. A run with a
# warm cache only checks the build stamps and takes well under a second.
#
# Usage: .ci/build_control_plane.sh [--print-env] [--no-helm] [--prune]
#   --print-env  print `export KUBEBUILDER_ASSETS=...`, TEST_ASSET_*=... and DROP_HELM=... lines on
#                stdout, for eval; all progress goes to stderr.
#   --no-helm    skip helm.
#   --prune      afterwards, delete the Go module and build caches and the generated wrapper modules,
#                keeping only the binaries (saves about 6 GB; the next version change rebuilds cold).
# Environment:
#   DROP_ASSETS_DIR            cache root (default $HOME/.cache/drop/assets)
#   DROP_K8S_VERSION           default v1.37.2
#   DROP_ETCD_VERSION          default v3.6.16
#   DROP_HELM_VERSION          default v3.22.0
#   DROP_BUILD_PARALLELISM     go build -p (default 2)
#   DROP_REQUIRE_CONTROL_PLANE if 1, a missing Go toolchain is an error instead of a one-line skip.
# Exit status: 0 when the binaries are ready, or when no Go toolchain exists (one line on stderr says so and
# nothing is printed on stdout, so the tests skip); non-zero when a build fails.
set -euo pipefail

K8S_VERSION="${DROP_K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${DROP_ETCD_VERSION:-v3.6.16}"
HELM_VERSION="${DROP_HELM_VERSION:-v3.22.0}"
ASSETS_DIR="${DROP_ASSETS_DIR:-$HOME/.cache/drop/assets}"
PARALLELISM="${DROP_BUILD_PARALLELISM:-2}"
PRINT_ENV=0
WITH_HELM=1
PRUNE=0

for arg in "$@"; do
  case "$arg" in
    --print-env) PRINT_ENV=1 ;;
    --no-helm) WITH_HELM=0 ;;
    --prune) PRUNE=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build_control_plane: unknown argument: $arg" >&2
      exit 64
      ;;
  esac
done

log() { echo "build_control_plane: $*" >&2; }

K8S_DIR="$ASSETS_DIR/k8s/${K8S_VERSION#v}-linux-amd64"
HELM_DIR="$ASSETS_DIR/helm/${HELM_VERSION#v}-linux-amd64"
SRC_DIR="$ASSETS_DIR/src"

print_env() {
  [ "$PRINT_ENV" = 1 ] || return 0
  local q="'\\''"
  emit() { printf "export %s='%s'\n" "$1" "${2//\'/$q}"; }
  emit KUBEBUILDER_ASSETS "$K8S_DIR"
  emit TEST_ASSET_KUBE_APISERVER "$K8S_DIR/kube-apiserver"
  emit TEST_ASSET_KUBE_CONTROLLER_MANAGER "$K8S_DIR/kube-controller-manager"
  emit TEST_ASSET_KUBECTL "$K8S_DIR/kubectl"
  emit TEST_ASSET_ETCD "$K8S_DIR/etcd"
  if [ "$WITH_HELM" = 1 ]; then
    emit DROP_HELM "$HELM_DIR/helm"
  fi
}

# A stamp records what a binary was built from; a binary counts as cached only with a matching stamp.
stamp_ok() { # dir name key
  [ -x "$1/$2" ] && [ -f "$1/.$2.stamp" ] && [ "$(cat "$1/.$2.stamp")" = "$3" ]
}

# RECIPE changes whenever the way a binary is built changes, so cached binaries built otherwise are rebuilt.
RECIPE=2
K8S_KEY="k8s.io/kubernetes@$K8S_VERSION recipe $RECIPE"
ETCD_KEY="go.etcd.io/etcd/server/v3@$ETCD_VERSION recipe $RECIPE"
HELM_KEY="helm.sh/helm/v3@$HELM_VERSION recipe $RECIPE"

all_cached() {
  for b in kube-apiserver kube-controller-manager kubectl; do
    stamp_ok "$K8S_DIR" "$b" "$K8S_KEY" || return 1
  done
  stamp_ok "$K8S_DIR" etcd "$ETCD_KEY" || return 1
  if [ "$WITH_HELM" = 1 ]; then
    stamp_ok "$HELM_DIR" helm "$HELM_KEY" || return 1
  fi
  return 0
}

# Deletes everything but the binaries (module cache files are read-only, hence the chmod).
prune() {
  [ "$PRUNE" = 1 ] || return 0
  if [ -d "$ASSETS_DIR/go" ] || [ -d "$SRC_DIR" ]; then
    chmod -R u+w "$ASSETS_DIR/go" "$SRC_DIR" 2>/dev/null || true
    rm -rf "$ASSETS_DIR/go" "$SRC_DIR"
    log "pruned the Go caches; $(du -sh "$ASSETS_DIR" 2>/dev/null | cut -f1) left at $ASSETS_DIR"
  fi
}

if all_cached; then
  log "cached: $K8S_DIR$([ "$WITH_HELM" = 1 ] && echo " and $HELM_DIR")"
  prune
  print_env
  exit 0
fi

GO_BIN="$(command -v go || true)"
if [ -z "$GO_BIN" ] && [ -x /usr/local/go/bin/go ]; then GO_BIN=/usr/local/go/bin/go; fi
if [ -z "$GO_BIN" ]; then
  if [ "${DROP_REQUIRE_CONTROL_PLANE:-0}" = 1 ]; then
    log "error: no Go toolchain found (go on PATH or /usr/local/go/bin/go); cannot build the control plane"
    exit 1
  fi
  log "skipped: no Go toolchain found (go on PATH or /usr/local/go/bin/go), real-control-plane tests will skip"
  exit 0
fi

mkdir -p "$ASSETS_DIR" "$SRC_DIR" "$ASSETS_DIR/go/mod" "$ASSETS_DIR/go/cache" "$K8S_DIR"
export GOMODCACHE="$ASSETS_DIR/go/mod"
export GOCACHE="$ASSETS_DIR/go/cache"
export GOTOOLCHAIN=local
export GOFLAGS="-buildvcs=false"
export CGO_ENABLED=0 GOOS=linux GOARCH=amd64

# One builder at a time per cache; a second caller waits, then finds the binaries cached.
exec 9>"$ASSETS_DIR/.lock"
if command -v flock >/dev/null; then
  flock 9
  if all_cached; then
    log "cached (built by a concurrent run): $K8S_DIR"
    prune
    print_env
    exit 0
  fi
fi

log "using $("$GO_BIN" version), cache $ASSETS_DIR"
START_ALL=$(date +%s)

# A string field of the one-level JSON object `go mod download -json` prints.
json_field() { # name json
  printf '%s\n' "$2" | sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p"
}

# Writes the stamp and moves the freshly built binaries into place, one rename each.
install_bins() { # staging-dir dest-dir key names...
  local from="$1" to="$2" key="$3"
  shift 3
  mkdir -p "$to"
  for b in "$@"; do
    mv -f "$from/$b" "$to/$b"
    printf '%s' "$key" >"$to/.$b.stamp"
  done
}

build_k8s() {
  local need=0
  for b in kube-apiserver kube-controller-manager kubectl; do
    stamp_ok "$K8S_DIR" "$b" "$K8S_KEY" || need=1
  done
  [ "$need" = 1 ] || return 0
  local t0 src info gomod ver major minor date ldflags replaces
  t0=$(date +%s)
  ver="${K8S_VERSION#v}"
  major="${ver%%.*}"
  minor="${ver#*.}"
  minor="${minor%%.*}"
  src="$SRC_DIR/kubernetes-$K8S_VERSION"
  mkdir -p "$src"
  log "downloading k8s.io/kubernetes@$K8S_VERSION metadata"
  info="$(cd "$src" && "$GO_BIN" mod download -json "k8s.io/kubernetes@$K8S_VERSION")"
  gomod="$(json_field GoMod "$info")"
  [ -f "$gomod" ] || { log "error: no go.mod for k8s.io/kubernetes@$K8S_VERSION"; return 1; }
  # The release's publication time (from the proxy's .info) is the build date: reproducible.
  date="$(sed -n 's/.*"Time":[[:space:]]*"\([^"]*\)".*/\1/p' "$(json_field Info "$info")")"
  # Staging modules: those the release replaces with ./staging/src/... and also requires. Each is
  # published on its own as v0.<minor>.<patch>.
  replaces="$(awk '
    /^require[[:space:]]*\(/ { inreq = 1; next }
    /^replace[[:space:]]*\(/ { inrep = 1; next }
    /^\)/ { inreq = 0; inrep = 0; next }
    inreq && $2 == "v0.0.0" { req[$1] = 1 }
    inrep && $2 == "=>" && $3 ~ /^\.\/staging\// { rep[$1] = 1 }
    END { for (m in rep) if (m in req) print m }
  ' "$gomod" | sort)"
  [ -n "$replaces" ] || { log "error: found no staging modules in $gomod"; return 1; }
  {
    echo "// Generated by .ci/build_control_plane.sh from the go.mod of k8s.io/kubernetes@$K8S_VERSION."
    echo "module drop.test/controlplane/kubernetes"
    echo
    grep -E '^(go|godebug) ' "$gomod"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "tool ("
    echo "	k8s.io/kubernetes/cmd/kube-apiserver"
    echo "	k8s.io/kubernetes/cmd/kube-controller-manager"
    echo "	k8s.io/kubernetes/cmd/kubectl"
    echo ")"
    echo
    echo "replace ("
    for m in $replaces; do echo "	$m => $m v0.${ver#*.}"; done
    echo ")"
  } >"$src/go.mod.new"
  if ! cmp -s "$src/go.mod.new" "$src/go.mod"; then
    mv "$src/go.mod.new" "$src/go.mod"
    rm -f "$src/go.sum"
  else
    rm -f "$src/go.mod.new"
  fi
  log "resolving modules ($(echo "$replaces" | wc -l) staging modules replaced with v0.${ver#*.})"
  (cd "$src" && "$GO_BIN" mod tidy)
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ldflags="$ldflags -X $p.gitCommit= -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  local out="$src/out"
  rm -rf "$out"
  mkdir -p "$out"
  log "building kube-apiserver, kube-controller-manager, kubectl $K8S_VERSION (-p $PARALLELISM)"
  (cd "$src" && "$GO_BIN" build -p "$PARALLELISM" -trimpath -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl)
  install_bins "$out" "$K8S_DIR" "$K8S_KEY" kube-apiserver kube-controller-manager kubectl
  log "built kubernetes $K8S_VERSION in $(($(date +%s) - t0))s"
}

build_etcd() {
  stamp_ok "$K8S_DIR" etcd "$ETCD_KEY" && return 0
  local t0 src out
  t0=$(date +%s)
  src="$SRC_DIR/etcd-$ETCD_VERSION"
  mkdir -p "$src"
  cat >"$src/go.mod.new" <<EOF
// Generated by .ci/build_control_plane.sh.
module drop.test/controlplane/etcd

go $("$GO_BIN" env GOVERSION | sed 's/^go\([0-9]*\.[0-9]*\).*/\1/').0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
  if ! cmp -s "$src/go.mod.new" "$src/go.mod"; then
    mv "$src/go.mod.new" "$src/go.mod"
    rm -f "$src/go.sum"
  else
    rm -f "$src/go.mod.new"
  fi
  cat >"$src/main.go" <<'EOF'
// Command etcd runs the etcd server; generated by .ci/build_control_plane.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  log "resolving go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  (cd "$src" && "$GO_BIN" mod tidy)
  out="$src/out"
  rm -rf "$out"
  mkdir -p "$out"
  log "building etcd $ETCD_VERSION (-p $PARALLELISM)"
  (cd "$src" && "$GO_BIN" build -p "$PARALLELISM" -trimpath -ldflags "-s -w" -o "$out/etcd" .)
  install_bins "$out" "$K8S_DIR" "$ETCD_KEY" etcd
  log "built etcd $ETCD_VERSION in $(($(date +%s) - t0))s"
}

build_helm() {
  [ "$WITH_HELM" = 1 ] || return 0
  stamp_ok "$HELM_DIR" helm "$HELM_KEY" && return 0
  local t0 src out info gomod
  t0=$(date +%s)
  src="$SRC_DIR/helm-$HELM_VERSION"
  mkdir -p "$src"
  info="$(cd "$src" && "$GO_BIN" mod download -json "helm.sh/helm/v3@$HELM_VERSION")"
  gomod="$(json_field GoMod "$info")"
  {
    echo "// Generated by .ci/build_control_plane.sh."
    echo "module drop.test/controlplane/helm"
    echo
    grep -E '^go ' "$gomod"
    echo
    echo "require helm.sh/helm/v3 $HELM_VERSION"
    echo
    echo "tool helm.sh/helm/v3/cmd/helm"
  } >"$src/go.mod.new"
  if ! cmp -s "$src/go.mod.new" "$src/go.mod"; then
    mv "$src/go.mod.new" "$src/go.mod"
    rm -f "$src/go.sum"
  else
    rm -f "$src/go.mod.new"
  fi
  log "resolving helm.sh/helm/v3@$HELM_VERSION"
  (cd "$src" && "$GO_BIN" mod tidy)
  out="$src/out"
  rm -rf "$out"
  mkdir -p "$out"
  log "building helm $HELM_VERSION (-p $PARALLELISM)"
  (cd "$src" && "$GO_BIN" build -p "$PARALLELISM" -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    -o "$out/helm" helm.sh/helm/v3/cmd/helm)
  install_bins "$out" "$HELM_DIR" "$HELM_KEY" helm
  log "built helm $HELM_VERSION in $(($(date +%s) - t0))s"
}

build_etcd
build_k8s
build_helm

log "done in $(($(date +%s) - START_ALL))s; cache $(du -sh "$ASSETS_DIR" 2>/dev/null | cut -f1) at $ASSETS_DIR"
prune
print_env
