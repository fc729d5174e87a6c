#!/usr/bin/env bash
# Installs what the test suite runs for real (openssl, kubectl, shellcheck, etcd,
# kubernetes-validate) and fails loudly when it
# cannot: tests never skip because a tool is missing. Safe to run again.
set -euo pipefail

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# The worker join script (tests/render_join.rs) must pass shellcheck (Debian package).
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
# The bundle's etcd runs for real (tests/etcd_real.rs).
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need_apt+=(etcd-client)
# The HA test runs three etcd members in network namespaces (tests/ha_etcd.rs).
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
# The static release binaries are inspected and run, the arm64 one under qemu
# (tests/static_binaries.rs); completions load in bash, zsh and fish, man pages render
# with groff (tests/cli_outputs.rs).
command -v file >/dev/null 2>&1 || need_apt+=(file)
command -v readelf >/dev/null 2>&1 || need_apt+=(binutils)
command -v qemu-aarch64-static >/dev/null 2>&1 || need_apt+=(qemu-user-static)
command -v zsh >/dev/null 2>&1 || need_apt+=(zsh)
command -v fish >/dev/null 2>&1 || need_apt+=(fish)
command -v groff >/dev/null 2>&1 || need_apt+=(groff-base)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  fi
fi

# The cross C toolchains and rustup targets of the release build (one list: release.sh).
"$(dirname "$0")/../scripts/release.sh" --install-deps --deps-only

if ! command -v kubectl >/dev/null 2>&1; then
  echo "tests/setup.sh: kubectl is required (the PKI tests run 'kubectl config view' on every kubeconfig)" >&2
  echo "install it from https://kubernetes.io/docs/tasks/tools/ and run again" >&2
  exit 1
fi
# Every emitted Kubernetes object is validated against the 1.31 schemas (tests/render_api.rs).
# The tests run it as `python3 tests/support/validate_objects.py` (the tool with its
# schemas read once per run), so it must be importable by python3.
if ! python3 -c 'import kubernetes_validate' >/dev/null 2>&1; then
  python3 -m pip install --quiet kubernetes-validate
fi
python3 -c 'import kubernetes_validate' >/dev/null 2>&1 || {
  echo "tests/setup.sh: kubernetes-validate is required (pip install kubernetes-validate)" >&2
  exit 1
}
# Build the static kbc-apply for both targets now, so that tests/static_binaries.rs (which
# runs the same command again: a no-op when nothing changed) measures no build time.
"$(dirname "$0")/../scripts/release.sh" --only kbc-apply >/dev/null

echo "tests/setup.sh: $(openssl version); kubectl $(kubectl version --client 2>/dev/null | head -1); $(etcd --version | head -1)"
