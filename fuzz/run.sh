#!/usr/bin/env bash
# Runs every cargo-fuzz target (or the ones named) for SECONDS each and reports executions
# and crashes per target. Corpora are seeded from fixtures/ on every run (fuzz/corpus/ is
# not committed); crashes land in fuzz/artifacts/<target>/ and each one found becomes a
# regression test. Limits are the ones the project promises: no input may take more than
# 10 s or 1 GiB.
#
#   fuzz/run.sh 900                  # 15 minutes per target, one after the other
#   JOBS=2 fuzz/run.sh 900 config    # one target on two cores
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config secrets bundle_verify patches pem)
jobs=${JOBS:-1}

command -v cargo-fuzz >/dev/null 2>&1 || cargo +nightly install cargo-fuzz --locked
fixtures=../fixtures

seed() {
  local target=$1 dir=corpus/$1
  mkdir -p "$dir"
  case $target in
    config)
      for f in "$fixtures"/*.yaml "$fixtures"/invalid/*.yaml "$fixtures"/kubeadm/*/*.yaml; do
        [ -f "$f" ] || continue
        { printf '\000'; cat "$f"; } > "$dir/strict-$(basename "$f")"
        { printf '\001'; cat "$f"; } > "$dir/lenient-$(basename "$f")"
      done ;;
    secrets)
      cp "$fixtures"/secrets/* "$dir"/ ;;
    bundle_verify)
      cp "$fixtures"/bundles/*.tgz "$dir"/ ;;
    patches)
      # The first byte picks the file name in fuzz/entry.rs (PATCH_NAMES).
      printf '\000metadata:\n  annotations:\n    a: b\nspec:\n  containers:\n  - name: kube-apiserver\n    resources:\n      requests:\n        cpu: 300m\n' > "$dir/strategic"
      printf '\001spec:\n  priority: 7\n  $patch: replace\n' > "$dir/merge"
      printf '\002[{"op": "add", "path": "/metadata/labels/x", "value": "y"}, {"op": "copy", "from": "/metadata", "path": "/spec/m"}, {"op": "move", "from": "/spec/m", "path": "/metadata/m"}, {"op": "test", "path": "/kind", "value": "Pod"}, {"op": "remove", "path": "/metadata/m"}]' > "$dir/json"
      printf '\004maxPods: 50\nevictionHard:\n  memory.available: 5%%\n---\nserializeImagePulls: false\n' > "$dir/kubelet"
      printf '\007spec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: coredns\n        $patch: delete\n' > "$dir/coredns"
      local i=0 f
      for f in $(find "$fixtures/patches" -type f \( -name '*.yaml' -o -name '*.json' \) | sort); do
        { printf "\\$(printf '%03o' $((i % 8)))"; cat "$f"; } > "$dir/fixture-$i"; i=$((i + 1))
      done ;;
    pem)
      local tmp; tmp=$(mktemp -d)
      tar -xzf "$fixtures/bundles/single-node.tgz" -C "$tmp"
      local pki=$tmp/rootfs/etc/kubernetes/pki
      { cat "$pki/ca.crt"; printf '\000'; cat "$pki/ca.key"; } > "$dir/ca-pair"
      { cat "$pki/ca.crt"; printf '\000'; cat "$pki/ca.key"; printf '\000'; cat "$tmp/rootfs/etc/kubernetes/admin.conf"; } > "$dir/ca-pair-admin"
      cp "$pki/apiserver.crt" "$dir/leaf"
      rm -rf "$tmp" ;;
  esac
}

for t in "${targets[@]}"; do cargo +nightly fuzz build -O "$t"; done
printf '%-14s %12s %10s %8s\n' target executions exec/s crashes
for t in "${targets[@]}"; do
  seed "$t"
  mkdir -p "artifacts/$t"
  log=$(mktemp)
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=1024 \
    -jobs="$jobs" -workers="$jobs" -print_final_stats=1 >"$log" 2>&1 || true
  runs=$(grep -h 'stat::number_of_executed_units' "$log" fuzz-*.log 2>/dev/null | awk '{s += $2} END {print s + 0}')
  rate=$(( runs / (seconds > 0 ? seconds : 1) ))
  crashes=$(find "artifacts/$t" -type f | wc -l)
  printf '%-14s %12s %10s %8s\n' "$t" "$runs" "$rate" "$crashes"
  rm -f "$log" fuzz-*.log
done
