#!/usr/bin/env python3
"""Holds memfds shaped like QEMU's KVM vCPU stats fds, for Read-VmKvmStat's Pester tests.

Each memfd is named kvm-vcpu-stats:N (its /proc/PID/fd link: /memfd:kvm-vcpu-stats:N (deleted)) and holds a blob in
the layout of Documentation/virt/kvm/api.rst (KVM_GET_STATS_FD): header, id "kvm-PID/vcpu-N", descriptors, u64 data.
vCPU N (seed s = N + 1): exits = 1000*s (cumulative), halt_poll_success_ns = 1.5e9*s ns (cumulative, seconds, 10^-9),
blocking = s % 2 (instant), halt_poll_success_hist = log2 histogram of 32 buckets, bucket i = (i+1)*s for i < 4, else 0.
Usage: kvm-stats-helper.py VCPUS [TICK_MS]: with TICK_MS, vCPU 0's exits grow by TICK_MS every TICK_MS ms (1000/s).
Prints "ready" once the fds exist; exits when stdin closes.
"""
import os
import struct
import sys
import threading
import time

NAME_SIZE = 48
SECONDS = 2 << 4
CUMULATIVE, INSTANT, LOG_HIST = 0, 1, 4


def blob(vcpu):
    s = vcpu + 1
    stats = [
        ("exits", CUMULATIVE, 0, [1000 * s]),
        ("halt_poll_success_ns", CUMULATIVE | SECONDS, -9, [1_500_000_000 * s]),
        ("blocking", INSTANT, 0, [s % 2]),
        ("halt_poll_success_hist", LOG_HIST | SECONDS, -9, [(i + 1) * s if i < 4 else 0 for i in range(32)]),
    ]
    desc_offset = 24 + NAME_SIZE
    data_offset = desc_offset + len(stats) * (16 + NAME_SIZE)
    out = struct.pack("<6I", 0, NAME_SIZE, len(stats), 24, desc_offset, data_offset)
    out += ("kvm-%d/vcpu-%d" % (os.getpid(), vcpu)).encode().ljust(NAME_SIZE, b"\0")
    data, offset = b"", 0
    for name, flags, exponent, values in stats:
        out += struct.pack("<IhHII", flags, exponent, len(values), offset, 0) + name.encode().ljust(NAME_SIZE, b"\0")
        data += struct.pack("<%dQ" % len(values), *values)
        offset += 8 * len(values)
    return out + data, data_offset


def main():
    vcpus = int(sys.argv[1])
    tick_ms = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    fds = []
    for vcpu in range(vcpus):
        content, data_offset = blob(vcpu)
        fd = os.memfd_create("kvm-vcpu-stats:%d" % vcpu, 0)
        os.write(fd, content)
        fds.append((fd, data_offset))
    if tick_ms:
        def grow():
            fd, data_offset = fds[0]
            exits = 1000
            while True:
                time.sleep(tick_ms / 1000)
                exits += tick_ms
                os.pwrite(fd, struct.pack("<Q", exits), data_offset)
        threading.Thread(target=grow, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()


main()
