#!/bin/bash
# instance-init.sh NAME IP DIR  -- PID 1 of a testbed instance.
#
# Started by the Nova driver (python/saharagen_testbed/virt.py) as
#   ip netns exec sgtb-<uuid> unshare --mount --uts --ipc --pid --fork instance-init.sh ...
# with stdout/stderr going to DIR/console.log (the server's console log).
# Builds a copy-on-write overlay of the host's / (upper dir in DIR, on tmpfs),
# a minimal /dev, empty /sys/block (+ /proc/partitions), an own hostname and
# /etc/hosts, the image user (LOGIN_USER, default ubuntu) with the Nova key and
# passwordless sudo, a fresh ed25519 host key printed cloud-init style, runs the
# user-data scripts as root (cloud-init's job), then execs sshd.
# Env: LOGIN_USER, BOOT_DELAY (seconds before sshd), NO_SSH=1 (never start sshd).
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
NAME=$1 IP=$2 D=$3
LOGIN=${LOGIN_USER:-ubuntu}
echo "testbed-init: booting $NAME ($IP) at $(date -u +%FT%TZ)"
U=$D/upper W=$D/work M=$D/merged
mkdir -p "$U" "$W" "$M"
# opaque /root /home /work: no host dotfiles, pyenv shims or secrets leak in
OPQ=(); for d in root work home; do mkdir -p "$U/$d"; OPQ+=("$U/$d"); done
/usr/bin/python3 -S -c 'import os,sys; [os.setxattr(d, "trusted.overlay.opaque", b"y") for d in sys.argv[1:]]' "${OPQ[@]}"
cp /etc/skel/.bashrc /etc/skel/.profile "$U/root/"; chmod 700 "$U/root"
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=/,upperdir=$U,workdir=$W" "$M"
# SAFETY: never show the instance the host's block devices (Sahara-like code
# runs lsblk and mkfs on every disk it sees unmounted).  Minimal /dev with char
# devices only; /sys/block, /sys/dev/block, /sys/class/block and
# /proc/partitions list only volumes attached to this server (the driver adds them).
mount -t tmpfs -o mode=755,size=1m,nosuid tmpfs "$M/dev"
for d in null zero full random urandom tty; do touch "$M/dev/$d"; mount --bind "/dev/$d" "$M/dev/$d"; done
mkdir -p "$M/dev/pts" "$M/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$M/dev/pts"; ln -s pts/ptmx "$M/dev/ptmx"
ln -s /proc/self/fd "$M/dev/fd"; ln -s /proc/self/fd/0 "$M/dev/stdin"; ln -s /proc/self/fd/1 "$M/dev/stdout"; ln -s /proc/self/fd/2 "$M/dev/stderr"
mount -t tmpfs -o mode=1777,size=64m tmpfs "$M/dev/shm"
mount -t proc proc "$M/proc"
mount -t sysfs sysfs "$M/sys"
for p in block dev/block class/block; do mount -t tmpfs -o size=64k,mode=755 tmpfs "$M/sys/$p"; done
mount -t tmpfs -o mode=755,size=64m tmpfs "$M/run"
mkdir -p "$M/run/testbed"; printf 'major minor  #blocks  name\n\n' > "$M/run/testbed/partitions"
mount --bind "$M/run/testbed/partitions" "$M/proc/partitions"
mount -t tmpfs -o mode=1777,size=512m tmpfs "$M/tmp"
hostname "$NAME"
echo "$NAME" > "$M/etc/hostname"
printf '127.0.0.1\tlocalhost\n%s\t%s\n' "$IP" "$NAME" > "$M/etc/hosts"
rm -f "$M/etc/resolv.conf"; printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$M/etc/resolv.conf"
rm -f "$M"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C "root@$NAME" -f "$M/etc/ssh/ssh_host_ed25519_key"
# the image user, as cloud-init sets it up: home, ~/.ssh with the Nova key, sudo
HOMED=$M/home/$LOGIN
mkdir -p "$HOMED/.ssh"; cp /etc/skel/.bashrc /etc/skel/.profile "$HOMED/"
install -m 600 "$D/authorized_keys" "$HOMED/.ssh/authorized_keys"
chmod 700 "$HOMED/.ssh"; chown -R "$LOGIN:$LOGIN" "$HOMED"
echo "$LOGIN ALL=(ALL) NOPASSWD:ALL" > "$M/etc/sudoers.d/90-cloud-init-users"; chmod 440 "$M/etc/sudoers.d/90-cloud-init-users"
mkdir -p "$M/var/lib/cloud/scripts" "$M/var/log"; cp "$D"/userdata-*.sh "$M/var/lib/cloud/scripts/" 2>/dev/null || true
# image compatibility: Sahara runs platform.linux_distribution() (gone since
# Python 3.8) on every instance; cloud images of Sahara's era had it.
PYV=$(/usr/bin/python3 -S -c 'import sys; print("%d.%d" % sys.version_info[:2])')
SP=$M/usr/local/lib/python$PYV/dist-packages; mkdir -p "$SP"
cat > "$SP/_sahara_platform_compat.py" <<'PYEOF'
import platform
if not hasattr(platform, "linux_distribution"):
    def linux_distribution(distname="", version="", id="", full_distribution_name=1, **kw):
        try:
            d = platform.freedesktop_os_release()
        except OSError:
            return (distname, version, id)
        return (d.get("NAME" if full_distribution_name else "ID", ""),
                d.get("VERSION_ID", ""), d.get("VERSION_CODENAME", ""))
    platform.linux_distribution = linux_distribution
PYEOF
echo "import _sahara_platform_compat" > "$SP/zz_sahara_platform_compat.pth"
mkdir -p "$M/run/sshd"
cat > "$M/etc/ssh/sshd_instance.conf" <<CONF
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PidFile /run/sshd.pid
MaxStartups 100:30:200
MaxSessions 64
Subsystem sftp internal-sftp
CONF
# print the host key like cloud-init does, so clients can pin it from the console log
FP=$(ssh-keygen -l -f "$M/etc/ssh/ssh_host_ed25519_key.pub")
echo "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
echo "$FP"
echo "-----END SSH HOST KEY FINGERPRINTS-----"
echo "-----BEGIN SSH HOST KEY KEYS-----"
cat "$M/etc/ssh/ssh_host_ed25519_key.pub"
echo "-----END SSH HOST KEY KEYS-----"
cd "$M"; mkdir -p .oldroot; pivot_root . .oldroot; cd /
umount -l /.oldroot; rmdir /.oldroot
for s in /var/lib/cloud/scripts/userdata-*.sh; do
  [ -f "$s" ] || continue
  echo "testbed-init: running user data $s"
  bash "$s" >>/var/log/cloud-init-output.log 2>&1 || echo "testbed-init: user data $s failed rc=$?"
done
if [ "${NO_SSH:-0}" = 1 ]; then
  echo "testbed-init: fault no_ssh: sshd will not start"
  exec sleep infinity
fi
if [ "${BOOT_DELAY:-0}" -gt 0 ]; then
  echo "testbed-init: boot delay ${BOOT_DELAY}s"; sleep "$BOOT_DELAY"
fi
echo "testbed-init: Cloud-init finished, starting sshd"
exec env -i PATH=$PATH /usr/sbin/sshd -D -e -f /etc/ssh/sshd_instance.conf 2>>/var/log/sshd.log
