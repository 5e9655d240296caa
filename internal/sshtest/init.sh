#!/bin/bash
# init.sh NAME DIR LOGIN SSHD_DELAY -- PID 1 of an sshtest host, started inside
# the host's network namespace by
#   unshare --mount --uts --ipc --pid --fork --kill-child.
# Builds a copy-on-write overlay of the machine's / (upper dir in DIR, on the
# lab's tmpfs), a minimal /dev without the machine's disks, its own hostname,
# the login user with DIR/authorized_keys and passwordless sudo, installs the
# host key the Go side generated, pivots into the overlay and execs sshd.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
NAME=$1 D=$2 LOGIN=$3 DELAY=$4
U=$D/upper W=$D/work M=$D/merged
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=/,upperdir=$U,workdir=$W" "$M"
mount -t tmpfs -o mode=755,size=1m,nosuid tmpfs "$M/dev"
for d in null zero full random urandom tty; do touch "$M/dev/$d"; mount --bind "/dev/$d" "$M/dev/$d"; done
mkdir -p "$M/dev/pts" "$M/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$M/dev/pts"; ln -s pts/ptmx "$M/dev/ptmx"
ln -s /proc/self/fd "$M/dev/fd"; ln -s /proc/self/fd/0 "$M/dev/stdin"; ln -s /proc/self/fd/1 "$M/dev/stdout"; ln -s /proc/self/fd/2 "$M/dev/stderr"
mount -t tmpfs -o mode=1777,size=64m tmpfs "$M/dev/shm"
mount -t proc proc "$M/proc"
mount -t sysfs sysfs "$M/sys"
mount -t tmpfs -o mode=755,size=64m tmpfs "$M/run"
mount -t tmpfs -o mode=1777,size=512m tmpfs "$M/tmp"
hostname "$NAME"
echo "$NAME" > "$M/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$NAME" > "$M/etc/hosts"
rm -f "$M/etc/resolv.conf"; printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$M/etc/resolv.conf"
rm -f "$M"/etc/ssh/ssh_host_*
install -m 600 "$D/host_key" "$M/etc/ssh/ssh_host_ed25519_key"
install -m 644 "$D/host_key.pub" "$M/etc/ssh/ssh_host_ed25519_key.pub"
# the login user, private to this host unless the machine already has it
if ! grep -q "^$LOGIN:" "$M/etc/passwd"; then
  LUID=4242; while grep -q "^[^:]*:[^:]*:$LUID:" "$M/etc/passwd"; do LUID=$((LUID + 1)); done
  echo "$LOGIN:x:$LUID:$LUID::/home/$LOGIN:/bin/bash" >> "$M/etc/passwd"
  echo "$LOGIN:x:$LUID:" >> "$M/etc/group"
  echo "$LOGIN:*:20000:0:99999:7:::" >> "$M/etc/shadow"
fi
IFS=: read -r _ _ LUID LGID _ HOMEDIR _ < <(grep "^$LOGIN:" "$M/etc/passwd")
H=$M$HOMEDIR
mkdir -p "$H/.ssh"; cp /etc/skel/.bashrc /etc/skel/.profile "$H/"
install -m 600 "$D/authorized_keys" "$H/.ssh/authorized_keys"
chmod 700 "$H/.ssh"; chmod 755 "$H"; chown -R "$LUID:$LGID" "$H"
echo "$LOGIN ALL=(ALL) NOPASSWD:ALL" > "$M/etc/sudoers.d/90-sshtest"; chmod 440 "$M/etc/sudoers.d/90-sshtest"
mkdir -p "$M/run/sshd"
cat > "$M/etc/ssh/sshd_sshtest.conf" <<CONF
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
AllowTcpForwarding yes
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
cd "$M"; mkdir -p .oldroot; pivot_root . .oldroot; cd /
umount -l /.oldroot; rmdir /.oldroot
echo "sshtest-init: $NAME ready"
if [ "$DELAY" != 0 ]; then echo "sshtest-init: sshd starts in ${DELAY}s"; sleep "$DELAY"; fi
echo "sshtest-init: starting sshd"
exec env -i PATH=$PATH /usr/sbin/sshd -D -e -f /etc/ssh/sshd_sshtest.conf
