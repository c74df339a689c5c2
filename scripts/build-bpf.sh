#!/usr/bin/env bash
# Rebuilds the committed BPF objects (src/VmProbe.Core/Bpf/programs/*.bpf.o) from their C sources, byte for byte
# reproducibly (cilium/ebpf bpf2go practice): a fixed clang (clang-14), relative paths from a fixed directory,
# -fdebug-prefix-map, DWARF stripped (BTF and BTF.ext, which CO-RE needs, are kept).
#   scripts/build-bpf.sh [OUTDIR]   OUTDIR defaults to the programs folder itself; the reproducibility test passes a
#                                   temporary folder and compares.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROGRAMS=src/VmProbe.Core/Bpf/programs
CLANG="${CLANG:-clang-14}"
STRIP="${LLVM_STRIP:-llvm-strip-14}"
out="${1:-$REPO/$PROGRAMS}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

command -v "$CLANG" >/dev/null || { echo "build-bpf: $CLANG not found: apt-get install clang-14 llvm-14" >&2; exit 2; }
command -v "$STRIP" >/dev/null || { echo "build-bpf: $STRIP not found: apt-get install llvm-14" >&2; exit 2; }

cd "$REPO/$PROGRAMS"
for source in *.bpf.c; do
    object="$out/${source%.c}.o"
    # -target bpf (little endian here); -g makes BTF; the prefix map and relative names keep paths out of the bytes.
    "$CLANG" -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_x86 \
        -fdebug-prefix-map="$PWD"=. -fno-ident -c "$source" -o "$object.tmp"
    "$STRIP" -g "$object.tmp" -o "$object"
    rm -f "$object.tmp"
    echo "build-bpf: $PROGRAMS/$source -> $object ($(stat -c %s "$object") bytes)"
done
