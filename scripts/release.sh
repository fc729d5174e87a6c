#!/usr/bin/env bash
# Builds the release binaries: `kbc` and `kbc-apply` as static, stripped executables for
# x86_64-unknown-linux-musl and aarch64-unknown-linux-musl, plus SHA256SUMS.
#
#   scripts/release.sh [--out DIR] [--only kbc|kbc-apply] [--target TRIPLE]... [--install-deps]
#                      [--deps-only]
#
# Output: DIR/<target>/<binary> and DIR/SHA256SUMS (default DIR: target/release-static/dist).
# Toolchain (README, "Release binaries"): the Rust targets come from rustup; the C parts of
# `ring` are compiled with Debian's musl-gcc (musl-tools) for x86_64 and with Debian's
# aarch64-linux-gnu-gcc (gcc-aarch64-linux-gnu) for arm64, which also links that target.
# `--install-deps` installs both and the rustup targets (root or sudo for apt); with
# `--deps-only` it stops there (tests/setup.sh uses it).
#
# Reproducible: build paths are remapped (the checkout, cargo's home, the toolchain, the
# target dir), the linker writes no build id, and the `dist` profile strips symbols, so two
# runs from different checkouts give byte-identical binaries.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/target/release-static/dist"
bins=(kbc kbc-apply)
targets=()
install_deps=0
deps_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --only) bins=("$2"); shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    --install-deps) install_deps=1; shift ;;
    --deps-only) deps_only=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
for b in "${bins[@]}"; do
  case "$b" in kbc|kbc-apply) ;; *) echo "release.sh: --only takes kbc or kbc-apply" >&2; exit 2 ;; esac
done

# The C compiler (and, for arm64, the linker) of each target; one place for both.
c_compiler() {
  case "$1" in
    x86_64-unknown-linux-musl) echo musl-gcc ;;
    aarch64-unknown-linux-musl) echo aarch64-linux-gnu-gcc ;;
    *) echo "release.sh: unsupported target $1" >&2; exit 2 ;;
  esac
}
debian_package() {
  case "$1" in musl-gcc) echo musl-tools ;; aarch64-linux-gnu-gcc) echo gcc-aarch64-linux-gnu ;; esac
}

if [ "$install_deps" = 1 ]; then
  missing=()
  for t in "${targets[@]}"; do
    command -v "$(c_compiler "$t")" >/dev/null 2>&1 || missing+=("$(debian_package "$(c_compiler "$t")")")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}"
  fi
  installed="$(rustup target list --installed)"
  for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
  done
fi
for t in "${targets[@]}"; do
  cc="$(c_compiler "$t")"
  command -v "$cc" >/dev/null 2>&1 || {
    echo "release.sh: $cc not found (Debian: apt-get install $(debian_package "$cc"); or pass --install-deps)" >&2
    exit 1
  }
  rustup target list --installed | grep -qx "$t" || {
    echo "release.sh: Rust target $t not installed (rustup target add $t; or pass --install-deps)" >&2
    exit 1
  }
done

[ "$deps_only" = 0 ] || exit 0

# Its own target dir: the remapping flags below would otherwise rebuild the dev cache.
target_dir="$repo/target/release-static"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
sysroot="$(rustc --print sysroot)"
remap="--remap-path-prefix=$repo=/kbc --remap-path-prefix=$cargo_home=/cargo"
remap="$remap --remap-path-prefix=$sysroot=/rustc --remap-path-prefix=$target_dir=/target"
c_remap="-ffile-prefix-map=$repo=/kbc -ffile-prefix-map=$cargo_home=/cargo -ffile-prefix-map=$target_dir=/target"

package_args=()
for b in "${bins[@]}"; do package_args+=(-p "$b"); done
mkdir -p "$out"
for t in "${targets[@]}"; do
  cc="$(c_compiler "$t")"
  env_t="$(tr 'a-z-' 'A-Z_' <<<"$t")"
  # Linker for the target (the host cc for x86_64 musl is rustc's default; arm64 needs
  # the cross gcc). No build id: it hashes the link inputs, paths included.
  export "CARGO_TARGET_${env_t}_LINKER=$( [ "$t" = x86_64-unknown-linux-musl ] && echo cc || echo "$cc")"
  export "CARGO_TARGET_${env_t}_RUSTFLAGS=$remap -C link-arg=-Wl,--build-id=none"
  export "CC_${t//-/_}=$cc"
  export "CFLAGS_${t//-/_}=$c_remap"
  CARGO_TARGET_DIR="$target_dir" cargo build --locked --profile dist --target "$t" "${package_args[@]}"
  mkdir -p "$out/$t"
  for b in "${bins[@]}"; do
    install -m 0755 "$target_dir/$t/dist/$b" "$out/$t/$b"
  done
done

# SHA256SUMS over every binary in DIR, paths relative to DIR, sorted: `sha256sum -c` works
# from DIR.
sums="$(cd "$out" && find . -mindepth 2 -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum)"
printf '%s\n' "$sums" >"$out/SHA256SUMS"
cat "$out/SHA256SUMS"
