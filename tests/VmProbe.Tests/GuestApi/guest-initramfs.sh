#!/bin/sh
# guest-initramfs.sh KERNEL_DEB BUSYBOX GUEST_CLIENT OUTDIR
# Builds a minimal guest for GuestApiBootTests from packages: OUTDIR/vmlinuz (from the Debian kernel package) and
# OUTDIR/initrd (newc cpio: a static busybox, the virtio-net modules of that kernel, scripts/vmprobe-guest and an init).
# The init takes its parameters from the kernel command line (vmprobe.ip=ADDR/LEN vmprobe.gw=ADDR vmprobe.host=HOST:PORT
# vmprobe.events=LIST), configures eth0, runs the guest client around a small busy loop, prints its report on the
# serial console between VMPROBE-GUEST-BEGIN and VMPROBE-GUEST-END, and powers off.
set -eu
deb=$1 busybox=$2 client=$3 out=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Only the kernel image and the modules eth0 needs (the cloud kernel builds virtio and virtio-net as modules).
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards './boot/vmlinuz-*' \
    '*/virtio/virtio.ko' '*/virtio/virtio_ring.ko' '*/virtio/virtio_pci_modern_dev.ko' '*/virtio/virtio_pci_legacy_dev.ko' \
    '*/virtio/virtio_pci.ko' '*/net/core/failover.ko' '*/drivers/net/net_failover.ko' '*/drivers/net/virtio_net.ko'
cp "$work"/boot/vmlinuz-* "$out/vmlinuz"

root=$work/root
mkdir -p "$root/bin" "$root/modules" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
cp "$client" "$root/bin/vmprobe-guest"
for m in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
    find "$work/lib" -name "$m.ko" -exec cp {} "$root/modules/" \;
done

cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# No modules.dep here: a few passes load each module once its dependencies are in (virtio.ko needs virtio_ring.ko).
for pass in 1 2 3; do
    for m in /modules/*.ko; do
        insmod "$m" 2>/dev/null && rm "$m"
    done
done
for arg in $(cat /proc/cmdline); do
    case $arg in
        vmprobe.ip=*) ip=${arg#*=} ;;
        vmprobe.gw=*) gw=${arg#*=} ;;
        vmprobe.host=*) host=${arg#*=} ;;
        vmprobe.events=*) events=${arg#*=} ;;
    esac
done
tries=0
while [ ! -e /sys/class/net/eth0 ] && [ $tries -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
ip link set lo up
ip link set eth0 up
ip addr add "$ip" dev eth0
ip route add default via "$gw"
echo VMPROBE-GUEST-BEGIN
vmprobe-guest -H "$host" -e "$events" sh -c 'i=0; while [ $i -lt 50000 ]; do i=$((i + 1)); done'
echo "VMPROBE-GUEST-END $?"
poweroff -f
INIT
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/vmprobe-guest"
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null) > "$out/initrd"
