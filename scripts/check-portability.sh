#!/usr/bin/env bash
# Fails unless the daemon binary can start on every target distribution in
# packaging/targets.tsv, checked one distribution at a time: every symbol
# version it binds (GLIBC_, GLIBCXX_, GCC_, LIBSYSTEMD_, OPENSSL_) is provided
# by that distribution's library, and every library it needs (its NEEDED
# entries, and those it dlopen()s: libcurl, libcrypto and libz) is there
# under that soname.
# Also: no link-time libcurl (its symbol versions differ between
# distributions, so it is dlopen'ed) and no ICU from full Foundation.
# Usage: scripts/check-portability.sh [BINARY [TARGETS]]
#   (default: the release build and packaging/targets.tsv)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$repo/.build/release/coder-vm-bootstrap}
targets=${2:-$repo/packaging/targets.tsv}
[[ -x $bin ]] || { echo "check-portability: $bin is not an executable; build it with 'make release'" >&2; exit 2; }
[[ -r $targets ]] || { echo "check-portability: cannot read $targets" >&2; exit 2; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }
version_le() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" == "$2" ]]; }

# What the binary needs: "soname symbol-version" pairs from .gnu.version_r,
# its NEEDED sonames, and the sonames it names but does not link (dlopen).
version_needs=$(readelf -V -W "$bin" | awk '
  /^Version needs section/ { inside = 1; next }
  /^Version (symbols|definition) section/ { inside = 0 }
  inside && /File:/ { for (i = 1; i <= NF; i++) if ($i == "File:") file = $(i + 1) }
  inside && /Name:/ { for (i = 1; i <= NF; i++) if ($i == "Name:") print file, $(i + 1) }')
needed=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u)
dlopened=$(strings -a "$bin" | grep -xE 'lib[a-z0-9_]+\.so\.[0-9]+' | sort -u | comm -23 - <(echo "$needed"))
[[ -n $needed ]] || { echo "check-portability: $bin links no shared library; not the dynamic daemon this checks" >&2; exit 2; }

# The symbol-version prefix each library's versions are compared in.
# CXXABI_ versions move together with GLIBCXX_ ones (one pair per GCC
# release), so GLIBCXX_ alone is compared.
declare -A prefix=([glibc]=GLIBC_ [libstdc++]=GLIBCXX_ [libgcc_s]=GCC_ [libsystemd]=LIBSYSTEMD_ [libcrypto]=OPENSSL_ [libcurl]=CURL_ [libz]=ZLIB_)

rows=$(grep -v '^#' "$targets" | tail -n +2)
for target in $(cut -f1 <<<"$rows" | awk '!seen[$0]++'); do
  target_rows=$(awk -F'\t' -v t="$target" '$1 == t' <<<"$rows")
  name=$(head -1 <<<"$target_rows" | cut -f2)
  problems=() checked=()
  # soname -> library and the highest version it provides, on this target
  declare -A library_of=() version_of=()
  while IFS=$'\t' read -r _ _ library sonames version _ _; do
    for soname in $sonames; do library_of[$soname]=$library; version_of[$soname]=$version; done
  done <<<"$target_rows"

  for soname in $needed $dlopened; do
    [[ -n ${library_of[$soname]:-} ]] || problems+=("no $soname")
  done
  while read -r soname symbol_version; do
    [[ -n $soname ]] || continue
    library=${library_of[$soname]:-}
    [[ -n $library ]] || continue   # already reported as missing
    [[ $symbol_version == CXXABI_* && $library == libstdc++ ]] && continue
    want=${symbol_version#"${prefix[$library]}"}
    if [[ $want == "$symbol_version" ]]; then
      problems+=("$symbol_version from $soname is not a ${prefix[$library]}* version this table can check")
    elif ! version_le "$want" "${version_of[$soname]}"; then
      problems+=("$symbol_version > ${prefix[$library]}${version_of[$soname]} ($soname)")
    fi
  done <<<"$version_needs"
  # The highest need per library, against what the target has.
  for library in glibc libstdc++ libgcc_s libsystemd libcrypto; do
    p=${prefix[$library]}
    top=$(awk -v p="$p" 'index($2, p) == 1 { print substr($2, length(p) + 1) }' <<<"$version_needs" | sort -V | tail -1)
    have=$(awk -F'\t' -v l="$library" '$3 == l { print $5 }' <<<"$target_rows")
    [[ -n $top ]] && checked+=("$p$top <= ${have:-?}")
  done
  unset library_of version_of

  if ((${#problems[@]})); then
    fail "$target ($name): $(IFS=';'; echo "${problems[*]}" | sed 's/;/; /g')"
  else
    pass "$target ($name): $(IFS=,; echo "${checked[*]}" | sed 's/,/, /g'); has $(echo $needed $dlopened)"
  fi
done

if readelf -V -W "$bin" | grep -qE 'Name: CURL_'; then fail "binds to versioned libcurl symbols: $(readelf -V -W "$bin" | grep -oE 'CURL_[A-Z0-9_]+' | sort -u | tr '\n' ' ')"
else pass "no versioned libcurl symbols (dlopen'ed: $(echo $dlopened))"; fi

# Full Foundation shows up as C++ symbols in ICU's namespace (icu_NN::); the
# word "icu" alone also appears in FoundationEssentials' own names.
icu=$(nm -C "$bin" 2>/dev/null | grep -cE 'icu_[0-9]+::' || true)
[[ $icu -eq 0 ]] && pass "no ICU symbols" || fail "$icu ICU symbols: something imports full Foundation"

stripped=$(mktemp); trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$bin"; size=$(stat -c %s "$stripped")
echo "info: stripped size $(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }')"
[[ $failures -eq 0 ]] || { echo "check-portability: $failures problem(s) in $bin" >&2; exit 1; }
echo "check-portability: $bin starts on all $(cut -f1 <<<"$rows" | sort -u | wc -l) target distributions of $(basename "$targets")"
