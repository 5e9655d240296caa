package sahara

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
)

// GenerateManagementKey makes the per-cluster management key pair (Sahara
// generated one per cluster too): an ed25519 private key as PKCS#8 PEM and
// its public key in authorized_keys format. It needs only the standard
// library, so the engine does not depend on an SSH implementation.
func GenerateManagementKey(comment string) (privatePEM, authorizedKey string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generating management key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", fmt.Errorf("encoding management key: %w", err)
	}
	privatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	authorizedKey = "ssh-ed25519 " + base64.StdEncoding.EncodeToString(sshString("ssh-ed25519", pub))
	if comment != "" {
		authorizedKey += " " + comment
	}
	return privatePEM, authorizedKey, nil
}

// sshString encodes the SSH wire format of an ed25519 public key blob.
func sshString(algo string, key []byte) []byte {
	var b []byte
	for _, part := range [][]byte{[]byte(algo), key} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(part)))
		b = append(b, part...)
	}
	return b
}
