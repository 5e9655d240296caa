package sshremote

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// BenchmarkRemote_50CommandsOn10Instances runs 50 commands on each of 10
// real sshd hosts (instances in parallel, commands in sequence on each), once
// through a pool and once through the ssh CLI (one process and one
// connection per command, host keys checked against a known_hosts file).
// Compare ns/op of the two; handshakes/op of the pool must be 10.
//
//	go test ./sahara/sshremote -run XXX -bench Remote_ -benchtime 3x
func BenchmarkRemote_50CommandsOn10Instances(b *testing.B) {
	const instances, commands = 10, 50
	f := newFixture(b)
	hosts := f.hosts(b, instances, sshtest.HostOptions{})
	ins := f.group("workers", false, 0, hosts...)
	ctx := context.Background()

	b.Run("pool", func(b *testing.B) {
		var handshakes, sessions int64
		for b.Loop() {
			c := &Connector{}
			rp, err := c.Connect(ctx, f.cluster)
			if err != nil {
				b.Fatal(err)
			}
			err = sahara.ParallelEach(ctx, 0, ins, func(ctx context.Context, in *sahara.Instance) error {
				r := rp.Remote(in)
				for range commands {
					if _, err := r.ExecuteCommand(ctx, "true", sahara.ExecOptions{}); err != nil {
						return err
					}
				}
				return nil
			})
			_ = rp.Close()
			if err != nil {
				b.Fatal(err)
			}
			handshakes += c.Handshakes()
			sessions += c.Sessions()
		}
		b.ReportMetric(float64(handshakes)/float64(b.N), "handshakes/op")
		b.ReportMetric(float64(sessions)/float64(b.N), "sessions/op")
		if handshakes != int64(instances*b.N) {
			b.Fatalf("%d handshakes over %d runs, want %d per run", handshakes, b.N, instances)
		}
	})

	b.Run("ssh_cli", func(b *testing.B) {
		dir := b.TempDir()
		raw, err := ssh.ParseRawPrivateKey([]byte(f.cluster.ManagementPrivateKey))
		if err != nil {
			b.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(raw, "")
		if err != nil {
			b.Fatal(err)
		}
		keyFile, knownHosts := filepath.Join(dir, "id"), filepath.Join(dir, "known_hosts")
		var kh strings.Builder
		for _, h := range hosts {
			kh.WriteString(h.IP() + " " + h.HostKey + "\n")
		}
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(knownHosts, []byte(kh.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			err := sahara.ParallelEach(ctx, 0, ins, func(ctx context.Context, in *sahara.Instance) error {
				for range commands {
					cmd := exec.CommandContext(ctx, "ssh", "-F", "/dev/null", "-i", keyFile, "-o", "IdentitiesOnly=yes",
						"-o", "UserKnownHostsFile="+knownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
						sshtest.DefaultUser+"@"+in.ManagementIP, "true")
					if out, err := cmd.CombinedOutput(); err != nil {
						return &sahara.CommandError{Instance: in.InstanceName, Name: "ssh", ExitCode: cmd.ProcessState.ExitCode(), StderrTail: string(out)}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(instances*commands), "handshakes/op") // one per command
	})
}
