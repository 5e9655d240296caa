package dask

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// TLS: every cluster has its own CA (kept with the cluster's Secrets, so in
// Terraform state and never in the Store). Each instance gets a certificate
// for both ends of a connection, and the users get a client certificate.
// Dask's TLS requires the peer's certificate on both sides (mutual
// authentication) and does not check host names: trust is the cluster CA.

// Keys of the cluster's Secrets and of its user credentials.
const (
	secretCA = "dask_tls_ca"
	// CredentialCA, CredentialClientCert and CredentialClientKey are the PEM
	// files a client needs (distributed.security.Security's tls_ca_file,
	// tls_client_cert and tls_client_key).
	CredentialCA         = "dask_tls_ca_cert"
	CredentialClientCert = "dask_tls_client_cert"
	CredentialClientKey  = "dask_tls_client_key"
)

// extraTransport records the cluster's transport at create ("tls" or
// "tcp"), so scale and roll keep it; records of before TLS have none: tcp.
const extraTransport = "dask_transport"

// certValidity is the lifetime of the CA and of every certificate; they
// are replaced with the cluster.
const certValidity = 10 * 365 * 24 * time.Hour

// tlsDir holds an instance's CA certificate, certificate and key.
const tlsDir = confDir + "/tls"

func (p *Plugin) tlsCA() string   { return p.root + tlsDir + "/ca.pem" }
func (p *Plugin) tlsCert() string { return p.root + tlsDir + "/node.pem" }
func (p *Plugin) tlsKey() string  { return p.root + tlsDir + "/node.key" }

type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// CertPEM and KeyPEM are the stored form.
	CertPEM string `json:"cert"`
	KeyPEM  string `json:"key"`
}

// usesTLS tells whether the cluster runs Dask over TLS.
func usesTLS(c *sahara.Cluster) bool { return c.Extra[extraTransport] == "tls" }

// clusterCA returns the cluster's CA, making it and the users' client
// certificate the first time when create is set.
func clusterCA(c *sahara.Cluster, create bool) (*certAuthority, error) {
	if raw := c.Secrets[secretCA]; raw != "" {
		var ca certAuthority
		if err := json.Unmarshal([]byte(raw), &ca); err != nil {
			return nil, fmt.Errorf("dask: the cluster's TLS CA is unreadable: %w", err)
		}
		return &ca, ca.parse()
	}
	if !create {
		return nil, errors.New("dask: the cluster runs TLS but its CA is not at hand: it is in the Terraform state of the workspace " +
			"that created the cluster (an imported cluster can be read and destroyed, and is changed from that workspace)")
	}
	ca, err := newCA(c)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(ca)
	if err != nil {
		return nil, err
	}
	if c.Secrets == nil {
		c.Secrets = map[string]string{}
	}
	c.Secrets[secretCA] = string(raw)
	certPEM, keyPEM, err := ca.issue("saharagen-dask-client "+c.Name, nil, nil, false)
	if err != nil {
		return nil, err
	}
	c.SetUserCredential(CredentialCA, ca.CertPEM)
	c.SetUserCredential(CredentialClientCert, string(certPEM))
	c.SetUserCredential(CredentialClientKey, string(keyPEM))
	return ca, nil
}

func newCA(c *sahara.Cluster) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl, err := certTemplate("saharagen Dask CA " + c.Name + " " + c.ID)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.MaxPathLenZero = true, true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("dask: making the cluster's TLS CA: %w", err)
	}
	keyPEM, err := marshalKey(key)
	if err != nil {
		return nil, err
	}
	ca := &certAuthority{CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), KeyPEM: string(keyPEM)}
	return ca, ca.parse()
}

func (ca *certAuthority) parse() error {
	cb, _ := pem.Decode([]byte(ca.CertPEM))
	kb, _ := pem.Decode([]byte(ca.KeyPEM))
	if cb == nil || kb == nil {
		return errors.New("dask: the cluster's TLS CA is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return fmt.Errorf("dask: the cluster's TLS CA certificate: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return fmt.Errorf("dask: the cluster's TLS CA key: %w", err)
	}
	ca.cert, ca.key = cert, key
	return nil
}

// issue makes a key and a certificate signed by the CA: for both ends of a
// connection (an instance) or, with server false, for a client only.
func (ca *certAuthority) issue(cn string, ips []net.IP, dnsNames []string, server bool) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := certTemplate(cn)
	if err != nil {
		return nil, nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tmpl.IPAddresses, tmpl.DNSNames = ips, dnsNames
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("dask: issuing a TLS certificate for %s: %w", cn, err)
	}
	keyPEM, err = marshalKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// issueFor makes the certificate of an instance, naming its addresses and
// host names (Dask does not check them; other TLS clients may).
func (ca *certAuthority) issueFor(in *sahara.Instance) (certPEM, keyPEM []byte, err error) {
	var ips []net.IP
	for _, a := range []string{in.InternalIP, in.ManagementIP} {
		if ip := net.ParseIP(a); ip != nil {
			ips = append(ips, ip)
		}
	}
	return ca.issue(in.InstanceName, ips, []string{in.InstanceName, in.FQDN()}, true)
}

func certTemplate(cn string) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"saharagen"}},
		NotBefore:    now.Add(-time.Hour), // clocks of instances lag
		NotAfter:     now.Add(certValidity),
	}, nil
}

func marshalKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}
