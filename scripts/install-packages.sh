#!/usr/bin/env bash
# Installs the Debian packages VmProbe needs, only those that are missing (one apt-get update, then one install).
#   scripts/install-packages.sh runtime   what the probe itself uses: libvirt.so.0, virsh, node_exporter, libbpf.so.1
#                                         (the eBPF programs of kvmexits and the task iterator; without it they fall back)
#   scripts/install-packages.sh test      also what the tests run for real: libvirtd + QEMU (TCG), promtool and the
#                                         Prometheus server (package prometheus: the dashboard and rules tests), perf,
#                                         clang-14 + llvm-14 (rebuild the BPF objects and compare), tmux (vmprobe top's screen tests),
#                                         busybox-static and a Debian cloud kernel package, downloaded (not installed) to
#                                         /var/cache/vmprobe-test (the guest endpoint's booted-guest test builds its VM from them)
# Not root: prints what is missing and exits 1 for runtime (the probe cannot work), 0 for test (those tests skip, saying why).
set -euo pipefail

runtime=(libvirt0 libvirt-clients prometheus-node-exporter libbpf1)
test_only=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system qemu-system-x86 prometheus linux-perf clang-14 llvm-14 tmux busybox-static)

case "${1:-}" in
    runtime) packages=("${runtime[@]}") ;;
    test) packages=("${runtime[@]}" "${test_only[@]}") ;;
    *) echo "usage: $0 runtime|test" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

# The booted-guest test's kernel: the .deb of the cloud kernel, only downloaded (apt-get download + dpkg-deb in the test).
kernel_cache=/var/cache/vmprobe-test
fetch_guest_kernel() {
    [ "$1" = test ] && [ "$(id -u)" -eq 0 ] || return 0
    ls "$kernel_cache"/linux-image-*-cloud-amd64_*.deb >/dev/null 2>&1 && return 0
    local kernel
    kernel=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n 1)
    [ -n "$kernel" ] || { echo "install-packages: no cloud kernel package known to apt: the booted-guest test will skip" >&2; return 0; }
    mkdir -p "$kernel_cache"
    (cd "$kernel_cache" && apt-get download "$kernel" </dev/null) || echo "install-packages: could not download $kernel: the booted-guest test will skip" >&2
}

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-packages: all present: ${packages[*]}"
    fetch_guest_kernel "$1"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-packages: missing ${missing[*]} and not root: run 'sudo $0 $1'" >&2
    [ "$1" = test ] && exit 0 || exit 1
fi

echo "install-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update </dev/null
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
fetch_guest_kernel "$1"
