#!/usr/bin/env bash
# Fails unless the daemon binary can start on every target distribution:
# glibc <= 2.34 (EL9), libstdc++ <= GLIBCXX_3.4.29 (EL9, Ubuntu 22.04), no
# link-time libcurl (its symbol versions differ between distributions: it is
# dlopen'ed), no ICU from full Foundation, and only libraries every target has.
# Usage: scripts/check-portability.sh [BINARY]   (default: the release build)
set -euo pipefail
bin=${1:-.build/release/coder-vm-bootstrap}
[[ -x $bin ]] || { echo "check-portability: $bin is not an executable; build it with 'make release'" >&2; exit 2; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

max_version() { readelf -V -W "$bin" | grep -oE "Name: $1_[0-9.]+" | sed "s/Name: $1_//" | sort -V | tail -1; }
version_le() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" == "$2" ]]; }

glibc=$(max_version GLIBC)
version_le "$glibc" 2.34 && pass "needs GLIBC_$glibc (<= 2.34)" || fail "needs GLIBC_$glibc, above 2.34 (EL9): $(objdump -T "$bin" | grep -E "GLIBC_$glibc" | awk '{print $NF}' | tr '\n' ' ')"

glibcxx=$(max_version GLIBCXX)
version_le "${glibcxx:-0}" 3.4.29 && pass "needs GLIBCXX_${glibcxx:-none} (<= 3.4.29)" || fail "needs GLIBCXX_$glibcxx, above 3.4.29 (EL9, Ubuntu 22.04)"

if readelf -V -W "$bin" | grep -qE 'Name: CURL_'; then fail "binds to versioned libcurl symbols: $(readelf -V -W "$bin" | grep -oE 'CURL_[A-Z0-9_]+' | sort -u | tr '\n' ' ')"
else pass "no versioned libcurl symbols"; fi

needed=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
allowed=" libc.so.6 libm.so.6 libstdc++.so.6 libgcc_s.so.1 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 libsystemd.so.0 libcrypto.so.3 libdl.so.2 libpthread.so.0 "
unexpected=""
for lib in $needed; do [[ $allowed == *" $lib "* ]] || unexpected+="$lib "; done
[[ -z $unexpected ]] && pass "links only $needed" || fail "links libraries not on every target: $unexpected"

# Full Foundation shows up as C++ symbols in ICU's namespace (icu_NN::); the
# word "icu" alone also appears in FoundationEssentials' own names.
icu=$(nm -C "$bin" 2>/dev/null | grep -cE 'icu_[0-9]+::' || true)
[[ $icu -eq 0 ]] && pass "no ICU symbols" || fail "$icu ICU symbols: something imports full Foundation"

stripped=$(mktemp); trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$bin"; size=$(stat -c %s "$stripped")
echo "info: stripped size $(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }')"
[[ $failures -eq 0 ]] || { echo "check-portability: $failures problem(s) in $bin" >&2; exit 1; }
echo "check-portability: $bin starts on glibc >= 2.34 distributions"
