#!/usr/bin/env bash
# Installs libcorral for C and every language that binds to C:
#   PREFIX/lib/libcorral.so, PREFIX/lib/libcorral.a, PREFIX/include/corral.h,
#   PREFIX/lib/pkgconfig/corral.pc
#
#   bash packaging/c/install.sh /usr/local            # release build
#   PROFILE=debug bash packaging/c/install.sh /tmp/x  # reuse a debug build
#
# Then: cc app.c $(pkg-config --cflags --libs corral)
set -euo pipefail

PREFIX="${1:?usage: install.sh PREFIX}"
PROFILE="${PROFILE:-release}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)"

case "$PROFILE" in
    release) cargo build --manifest-path "$ROOT/Cargo.toml" -p corral-c --release ;;
    debug) cargo build --manifest-path "$ROOT/Cargo.toml" -p corral-c ;;
    *) echo "PROFILE must be release or debug, not $PROFILE" >&2; exit 2 ;;
esac
TARGET_DIR="$(cargo metadata --manifest-path "$ROOT/Cargo.toml" --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
BUILT="$TARGET_DIR/$PROFILE"

install -d "$PREFIX/lib/pkgconfig" "$PREFIX/include"
install -m 0755 "$BUILT/libcorral.so" "$PREFIX/lib/libcorral.so"
install -m 0644 "$BUILT/libcorral.a" "$PREFIX/lib/libcorral.a"
install -m 0644 "$ROOT/bindings-c/include/corral.h" "$PREFIX/include/corral.h"
sed -e "s|@PREFIX@|$PREFIX|" -e "s|@VERSION@|$VERSION|" "$ROOT/packaging/c/corral.pc.in" \
    >"$PREFIX/lib/pkgconfig/corral.pc"
echo "installed libcorral $VERSION ($PROFILE) under $PREFIX"
