package sahara

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ServiceHostsProvider is an optional Infrastructure capability: the
// /etc/hosts lines of the cloud's public endpoints (Keystone, Swift) that
// Sahara adds after the instances, each "<ip> <host>" or
// "# Failed to resolve <host> during deployment".
type ServiceHostsProvider interface {
	ServiceHosts(ctx context.Context) ([]string, error)
}

// Timeouts of Sahara's preparing calls.
const (
	writeFileTimeout = 120 * time.Second
	commandTimeout   = 300 * time.Second
)

// etcHosts renders /etc/hosts (Sahara's generate_etc_hosts): localhost,
// every instance in node-group order, then the cloud's endpoints.
func (op *operation) etcHosts(ctx context.Context) (string, error) {
	if !op.hostsLoaded {
		if sh, ok := op.e.opts.Infra.(ServiceHostsProvider); ok {
			lines, err := sh.ServiceHosts(ctx)
			if err != nil {
				return "", fmt.Errorf("resolving the cloud's endpoints for /etc/hosts: %w", err)
			}
			op.hostsExtra = lines
		}
		op.hostsLoaded = true
	}
	var b strings.Builder
	b.WriteString("127.0.0.1 localhost\n")
	for _, in := range op.c.Instances() {
		if in.InternalIP == "" {
			continue
		}
		fmt.Fprintf(&b, "%s %s %s\n", in.InternalIP, in.FQDN(), in.Hostname())
	}
	for _, l := range op.hostsExtra {
		b.WriteString(strings.TrimRight(l, "\n") + "\n")
	}
	return b.String(), nil
}

// prepare readies the new instances (management key, volumes), rewrites
// /etc/hosts and the hostname on every instance, then configures NTP on the
// new ones (step "Configure instances").
func (op *operation) prepare(ctx context.Context, newInstances, all []*Instance) error {
	pool, err := op.remotes(ctx)
	if err != nil {
		return err
	}
	hosts, err := op.etcHosts(ctx)
	if err != nil {
		return err
	}
	isNew := map[*Instance]bool{}
	for _, in := range newInstances {
		isNew[in] = true
	}
	total := len(all)
	step := op.startStep("Configure instances", total)
	op.log.Info(fmt.Sprintf("Preparing %d instances (%d new)", total, len(newInstances)))
	done := 0
	err = ParallelEach(ctx, op.e.parallelism(), all, func(ctx context.Context, in *Instance) error {
		r := pool.Remote(in)
		var err error
		if isNew[in] {
			err = op.authorizeManagementKey(ctx, r)
			if err == nil {
				err = op.mountVolumes(ctx, r, in)
			}
		}
		if err == nil {
			err = configureHosts(ctx, r, in, hosts)
		}
		if err == nil && isNew[in] {
			err = op.configureNTP(ctx, r, in)
		}
		next := InstancePhase("")
		if isNew[in] {
			next = InstancePrepared
		}
		op.event(step, in, err, next)
		if err == nil {
			op.mu.Lock()
			done++
			n := done
			op.mu.Unlock()
			op.log.Info(fmt.Sprintf("Prepared %d/%d instances", n, total), "instance", in.InstanceName)
		}
		return err
	})
	op.endStep(step, err)
	if err != nil {
		return fmt.Errorf("preparing instances: %w", err)
	}
	return nil
}

// configureHosts is Sahara's _configure_instance_etc_hosts, call for call.
func configureHosts(ctx context.Context, r Remote, in *Instance, hosts string) error {
	fqdn := in.FQDN()
	q, err := Quote(fqdn)
	if err != nil {
		return err
	}
	if err := r.WriteFileTo(ctx, "etc-hosts", []byte(hosts), FileOptions{Timeout: writeFileTimeout}); err != nil {
		return err
	}
	if err := r.WriteFileTo(ctx, "etc-hostname", []byte(fqdn), FileOptions{Timeout: writeFileTimeout}); err != nil {
		return err
	}
	for _, cmd := range []string{
		"sudo hostname " + q,
		"sudo cp etc-hosts /etc/hosts",
		"sudo cp etc-hostname /etc/hostname",
		"sudo rm etc-hosts  etc-hostname",
		"sudo usermod -s /bin/bash $USER",
	} {
		if _, err := r.ExecuteCommand(ctx, cmd, ExecOptions{Timeout: commandTimeout}); err != nil {
			return err
		}
	}
	return nil
}

// authorizeManagementKey makes sure the cluster's management public key is
// in the login user's authorized_keys (user data normally put it there).
func (op *operation) authorizeManagementKey(ctx context.Context, r Remote) error {
	key := strings.TrimSpace(op.c.ManagementPublicKey)
	if key == "" {
		return nil
	}
	q, err := Quote(key)
	if err != nil {
		return err
	}
	cmd := "mkdir -p ~/.ssh && chmod 700 ~/.ssh && { grep -qxF -- " + q + " ~/.ssh/authorized_keys 2>/dev/null || printf '%s\\n' " + q +
		" >> ~/.ssh/authorized_keys; } && chmod 600 ~/.ssh/authorized_keys"
	_, err = r.ExecuteCommand(ctx, cmd, ExecOptions{Name: "authorize management key", Timeout: commandTimeout})
	return err
}

// clusterConfig reads a general cluster config, else its default.
func clusterConfig(c *Cluster, name string, def any) any {
	if v, ok := c.ClusterConfigs.Get(TargetGeneral, name); ok {
		return v
	}
	return def
}

// mountVolumes formats and mounts the volumes the engine attached, at
// MountPrefix()+1..N, and records StorageDevicesNumber. Devices come from
// the attachments only; nothing is discovered on the instance.
func (op *operation) mountVolumes(ctx context.Context, r Remote, in *Instance) error {
	if len(in.Volumes) == 0 {
		return nil
	}
	c := op.c
	timeoutS, err := AsInt(clusterConfig(c, "Timeout for disk preparing", 300))
	if err != nil || timeoutS <= 0 {
		timeoutS = 300
	}
	timeout := time.Duration(timeoutS) * time.Second
	xfs, err := AsBool(clusterConfig(c, "Enable XFS", true))
	if err != nil {
		xfs = true
	}
	if xfs {
		res, err := r.ExecuteCommand(ctx, "test -x /sbin/mkfs.xfs || test -x /usr/sbin/mkfs.xfs", ExecOptions{IgnoreExitCode: true, Name: "test mkfs.xfs"})
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			op.log.Info("mkfs.xfs missing; formatting volumes with ext4", "instance", in.InstanceName)
			xfs = false
		}
	}
	prefix := in.NodeGroup().MountPrefix()
	for i, v := range in.Volumes {
		dev := v.Device
		if !strings.HasPrefix(dev, "/dev/") || strings.Contains(dev, "..") {
			return fmt.Errorf("volume %s has no usable attachment device (%q); refusing to guess one", v.ID, dev)
		}
		mp := prefix + strconv.Itoa(i+1)
		qdev, err := Quote(dev)
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.ID, err)
		}
		qmp, err := Quote(mp)
		if err != nil {
			return fmt.Errorf("volume mount point of node group %s: %w", in.NodeGroup().Name, err)
		}
		// Never format a disk in use: a wrong attachment path must not cost data.
		res, err := r.ExecuteCommand(ctx, "grep -qsF -- "+MustQuote(dev+" ")+" /proc/mounts", ExecOptions{IgnoreExitCode: true, Name: "check mounts"})
		if err != nil {
			return err
		}
		if res.ExitCode == 0 {
			return fmt.Errorf("volume %s: device %s is already mounted; refusing to format it", v.ID, dev)
		}
		mkfs := "sudo mkfs.ext4 -F -m 1 -O dir_index,extents,^has_journal " + qdev
		mount := "sudo mount -o data=writeback,noatime,nodiratime " + qdev + " " + qmp
		if xfs {
			mkfs = "sudo mkfs.xfs -f " + qdev
			mount = "sudo mount -t xfs -o noatime,nodiratime " + qdev + " " + qmp
		}
		fstab := "sudo sh -c " + MustQuote("grep -F -- "+MustQuote(dev+" ")+" /etc/mtab >> /etc/fstab")
		for _, cmd := range []string{mkfs, "sudo mkdir -p " + qmp, mount, fstab} {
			if _, err := r.ExecuteCommand(ctx, cmd, ExecOptions{Timeout: timeout}); err != nil {
				return fmt.Errorf("volume %s (%s at %s): %w", v.ID, dev, mp, err)
			}
		}
		op.mu.Lock()
		in.StorageDevicesNumber = i + 1
		op.mu.Unlock()
	}
	op.log.Debug("volumes mounted", "instance", in.InstanceName, "count", len(in.Volumes))
	return nil
}

// DefaultNTPServer is Sahara's default_ntp_server.
const DefaultNTPServer = "pool.ntp.org"

// configureNTP is Sahara's ntp_service: unless "Enable NTP service" is off,
// point ntpd at "URL of NTP server" and sync once. An image without the ntp
// package is skipped with a warning, as in Sahara.
func (op *operation) configureNTP(ctx context.Context, r Remote, in *Instance) error {
	if on, err := AsBool(clusterConfig(op.c, "Enable NTP service", true)); err == nil && !on {
		return nil
	}
	url := AsString(clusterConfig(op.c, "URL of NTP server", ""))
	if url == "" {
		url = DefaultNTPServer
	}
	if err := CheckNTPServer(url); err != nil {
		return fmt.Errorf("URL of NTP server: %w", err)
	}
	qurl := MustQuote(url)
	distro, err := r.GetOSDistrib(ctx)
	if err != nil {
		return err
	}
	check, service := "rpm -q ntp", "service ntpd restart"
	if distro == "ubuntu" || distro == "debian" {
		check, service = "dpkg -s ntp", "service ntp restart"
	}
	res, err := r.ExecuteCommand(ctx, check, ExecOptions{IgnoreExitCode: true, Name: "check ntp"})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		op.log.Warn("ntp is not installed on the image; NTP not configured", "instance", in.InstanceName)
		return nil
	}
	if err := r.PrependToFile(ctx, "/etc/ntp.conf", []byte("server "+url+" iburst\n"), FileOptions{RunAsRoot: true}); err != nil {
		return err
	}
	if _, err := r.ExecuteCommand(ctx, service, ExecOptions{RunAsRoot: true, Timeout: commandTimeout}); err != nil {
		return err
	}
	// A failed first sync is not fatal: ntpd keeps trying.
	if res, err := r.ExecuteCommand(ctx, "ntpdate -u "+qurl, ExecOptions{RunAsRoot: true, IgnoreExitCode: true, Timeout: commandTimeout}); err != nil || res.ExitCode != 0 {
		op.log.Info("ntpdate failed; ntpd will sync later", "instance", in.InstanceName, "exit", res.ExitCode, "error", err)
	}
	return nil
}
