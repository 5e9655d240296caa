package vanilla

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

const sshDir = "/home/hadoop/.ssh"

type keypair struct {
	Public  string `json:"public"`
	Private string `json:"private"`
}

// clusterKeypair returns the hadoop user's key pair of the cluster, making
// and recording it (Secrets[ExtraKeypair]) the first time when create is set.
func clusterKeypair(c *sahara.Cluster, create bool) (*keypair, error) {
	// Records of before Cluster.Secrets kept it in Extra, in the clear.
	if raw := c.Extra[ExtraKeypair]; raw != "" && c.Secrets[ExtraKeypair] == "" {
		if c.Secrets == nil {
			c.Secrets = map[string]string{}
		}
		c.Secrets[ExtraKeypair] = raw
		delete(c.Extra, ExtraKeypair)
	}
	if raw := c.Secrets[ExtraKeypair]; raw != "" {
		var kp keypair
		if err := json.Unmarshal([]byte(raw), &kp); err != nil {
			return nil, fmt.Errorf("vanilla: cluster extra %s is not a key pair: %w", ExtraKeypair, err)
		}
		return &kp, nil
	}
	if !create {
		return nil, nil
	}
	kp, err := generateKeypair()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(kp)
	if err != nil {
		return nil, err
	}
	if c.Secrets == nil {
		c.Secrets = map[string]string{}
	}
	c.Secrets[ExtraKeypair] = string(raw)
	return kp, nil
}

// generateKeypair makes an RSA key as Sahara does (id_rsa is what Hadoop's
// scripts and ssh look for): PKCS#1 PEM and an authorized_keys line.
func generateKeypair() (*keypair, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("vanilla: generating the hadoop key pair: %w", err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	var blob []byte
	for _, part := range [][]byte{[]byte("ssh-rsa"), mpint(big.NewInt(int64(key.E))), mpint(key.N)} {
		blob = binary.BigEndian.AppendUint32(blob, uint32(len(part)))
		blob = append(blob, part...)
	}
	pub := "ssh-rsa " + base64.StdEncoding.EncodeToString(blob) + " Generated-by-saharagen\n"
	return &keypair{Public: pub, Private: string(priv)}, nil
}

// mpint is the SSH wire form of a positive integer.
func mpint(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

// provisionKeypair is Sahara's _provision_key on one instance.
func provisionKeypair(ctx context.Context, rem sahara.Remote, kp *keypair) error {
	if _, err := rem.ExecuteCommand(ctx, "sudo mkdir -p "+sshDir, sahara.ExecOptions{}); err != nil {
		return err
	}
	for _, f := range []struct {
		name, data string
		secret     bool
	}{{"authorized_keys", kp.Public, false}, {"id_rsa", kp.Private, true}, {"id_rsa.pub", kp.Public, false}} {
		if err := rem.AppendToFile(ctx, sshDir+"/"+f.name, []byte(f.data), sahara.FileOptions{RunAsRoot: true, Sensitive: f.secret}); err != nil {
			return fmt.Errorf("writing %s/%s: %w", sshDir, f.name, err)
		}
	}
	for _, cmd := range []string{"sudo chown -R hadoop " + sshDir, "sudo chmod 600 " + sshDir + "/id_rsa"} {
		if _, err := rem.ExecuteCommand(ctx, cmd, sahara.ExecOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// provisionKeypairs is Sahara's provision_keypairs: every instance at
// create; only the new ones when scaling, and nothing for a cluster that
// has no key pair yet.
func (p *Plugin) provisionKeypairs(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance, scaling bool) error {
	kp, err := clusterKeypair(c, !scaling)
	if err != nil || kp == nil {
		return err
	}
	p.Logger(ctx).Info("Installing the hadoop user's key pair", "cluster", c.Name, "instances", len(instances))
	return sahara.ParallelEach(ctx, p.Parallelism, instances, func(ctx context.Context, in *sahara.Instance) error {
		return provisionKeypair(ctx, r.Remote(in), kp)
	})
}
