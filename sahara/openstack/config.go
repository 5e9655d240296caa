package openstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/utils/v2/openstack/clientconfig"
)

// responseHeaderTimeout bounds the wait for an API's answer to one request;
// the slowest calls here (server and volume creation) answer in seconds.
const responseHeaderTimeout = 2 * time.Minute

// Config is how to reach and authenticate to an OpenStack cloud, with the
// settings and fallbacks terraform-provider-openstack users know: a
// clouds.yaml entry (Cloud or OS_CLOUD), then explicit fields, then OS_*
// environment variables for whatever is still unset.
type Config struct {
	Cloud string

	AuthURL                     string
	UserName                    string
	UserID                      string
	Password                    string
	TenantName                  string // project name
	TenantID                    string // project ID
	UserDomainName              string
	UserDomainID                string
	ProjectDomainName           string
	ProjectDomainID             string
	DomainName                  string
	DomainID                    string
	DefaultDomain               string
	ApplicationCredentialID     string
	ApplicationCredentialName   string
	ApplicationCredentialSecret string
	Token                       string
	Region                      string

	// SystemScope scopes the token to the system instead of a project.
	SystemScope bool

	Insecure *bool
	// CACertFile, ClientCertFile and ClientKeyFile each take a path or the
	// PEM contents themselves (what a remote run with only variables has).
	CACertFile     string
	ClientCertFile string
	ClientKeyFile  string

	// UserAgent goes before gophercloud's in every request's User-Agent.
	UserAgent string

	// EndpointType is public (default), internal or admin.
	EndpointType string
	// EndpointOverrides maps a service type ("compute", "network",
	// "volumev3", "object-store", "image") to a full endpoint URL.
	EndpointOverrides map[string]string

	// MaxRetries is how often a request is retried after a transient fault
	// (429, 502, 503, 504, a lost connection; see retryTransport). Nil means
	// DefaultMaxRetries; 0 means no retries.
	MaxRetries *int
}

func (cfg Config) maxRetries() int {
	if cfg.MaxRetries == nil {
		return DefaultMaxRetries
	}
	return max(*cfg.MaxRetries, 0)
}

// Secrets are the values of the secret fields (password, token,
// application credential secret, a client key given as contents), for a
// caller that masks them in logs.
func (cfg Config) Secrets() []string {
	out := []string{cfg.Password, cfg.Token, cfg.ApplicationCredentialSecret}
	if isPEM(cfg.ClientKeyFile) {
		out = append(out, cfg.ClientKeyFile) // the key itself, not a path
	}
	return out
}

// Option customises New.
type Option func(*options)

type options struct {
	logger        *slog.Logger
	transport     http.RoundTripper
	pollInterval  time.Duration
	parallelism   int
	deleteTimeout time.Duration
}

// DefaultDeleteTimeout bounds each wait of a deletion (servers gone,
// volumes detached) when WithDeleteTimeout is not given.
const DefaultDeleteTimeout = 10 * time.Minute

// WithDeleteTimeout bounds each wait of a deletion for the cloud: servers
// to be gone, volumes to be detached (Sahara's [timeouts]
// delete_instances_timeout and detach_volume_timeout). Past it the deletion
// fails naming what is left, still tagged, for the next one to delete.
func WithDeleteTimeout(d time.Duration) Option { return func(o *options) { o.deleteTimeout = d } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithTransport sets the HTTP transport under the retry layer (tests count
// requests with it). TLS settings of Config apply only to the default transport.
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// WithPollInterval sets how often waits poll the cloud (default 2 s).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithParallelism bounds concurrent create/delete calls (default 8).
func WithParallelism(n int) Option { return func(o *options) { o.parallelism = n } }

// resolve turns cfg (clouds.yaml, explicit fields, environment) into
// gophercloud auth options plus the TLS, region and interface settings.
func (cfg Config) resolve() (*gophercloud.AuthOptions, *clientconfig.Cloud, error) {
	cloud := &clientconfig.Cloud{}
	name := cfg.Cloud
	if name == "" {
		name = os.Getenv("OS_CLOUD")
	}
	if name != "" {
		c, err := clientconfig.GetCloudFromYAML(&clientconfig.ClientOpts{Cloud: name, RegionName: cfg.Region})
		if err != nil {
			return nil, nil, fmt.Errorf("reading clouds.yaml entry %q: %w", name, err)
		}
		cloud = c
	}
	if cfg.AuthURL == "" && os.Getenv("OS_AUTH_URL") == "" && (cloud.AuthInfo == nil || cloud.AuthInfo.AuthURL == "") {
		return nil, nil, errors.New("no OpenStack auth URL: set auth_url, OS_AUTH_URL or a clouds.yaml cloud (cloud / OS_CLOUD)")
	}
	ao, err := clientconfig.AuthOptions(&clientconfig.ClientOpts{Cloud: name, RegionName: cfg.Region, AuthInfo: cfg.authInfo()})
	if err != nil {
		return nil, nil, fmt.Errorf("building OpenStack credentials: %w", err)
	}
	cfg.overlay(ao)
	ao.AllowReauth = ao.TokenID == ""
	return ao, cloud, nil
}

func (cfg Config) authInfo() *clientconfig.AuthInfo {
	return &clientconfig.AuthInfo{
		AuthURL: cfg.AuthURL, Token: cfg.Token, Username: cfg.UserName, UserID: cfg.UserID, Password: cfg.Password,
		ApplicationCredentialID: cfg.ApplicationCredentialID, ApplicationCredentialName: cfg.ApplicationCredentialName,
		ApplicationCredentialSecret: cfg.ApplicationCredentialSecret,
		ProjectName:                 cfg.TenantName, ProjectID: cfg.TenantID,
		UserDomainName: cfg.UserDomainName, UserDomainID: cfg.UserDomainID,
		ProjectDomainName: cfg.ProjectDomainName, ProjectDomainID: cfg.ProjectDomainID,
		DomainName: cfg.DomainName, DomainID: cfg.DomainID, DefaultDomain: cfg.DefaultDomain,
		SystemScope: systemScope(cfg.SystemScope),
	}
}

func systemScope(on bool) string {
	if on {
		return "all"
	}
	return ""
}

// overlay makes explicit fields win over a clouds.yaml entry, as in
// terraform-provider-openstack.
func (cfg Config) overlay(ao *gophercloud.AuthOptions) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&ao.IdentityEndpoint, cfg.AuthURL)
	set(&ao.Username, cfg.UserName)
	set(&ao.UserID, cfg.UserID)
	set(&ao.Password, cfg.Password)
	set(&ao.TokenID, cfg.Token)
	set(&ao.ApplicationCredentialID, cfg.ApplicationCredentialID)
	set(&ao.ApplicationCredentialName, cfg.ApplicationCredentialName)
	set(&ao.ApplicationCredentialSecret, cfg.ApplicationCredentialSecret)
	if cfg.UserDomainName != "" || cfg.UserDomainID != "" {
		ao.DomainName, ao.DomainID = cfg.UserDomainName, cfg.UserDomainID
	}
	if cfg.TenantName != "" || cfg.TenantID != "" {
		if ao.Scope == nil {
			ao.Scope = &gophercloud.AuthScope{}
		}
		ao.Scope.ProjectName, ao.Scope.ProjectID = cfg.TenantName, cfg.TenantID
		ao.TenantName, ao.TenantID = cfg.TenantName, cfg.TenantID
		if cfg.ProjectDomainName != "" || cfg.ProjectDomainID != "" {
			ao.Scope.DomainName, ao.Scope.DomainID = cfg.ProjectDomainName, cfg.ProjectDomainID
		}
	}
}

func (cfg Config) region(cloud *clientconfig.Cloud) string {
	for _, v := range []string{cfg.Region, cloud.RegionName, os.Getenv("OS_REGION_NAME")} {
		if v != "" {
			return v
		}
	}
	return ""
}

func (cfg Config) availability(cloud *clientconfig.Cloud) (gophercloud.Availability, error) {
	v := cfg.EndpointType
	for _, alt := range []string{cloud.EndpointType, os.Getenv("OS_ENDPOINT_TYPE"), os.Getenv("OS_INTERFACE")} {
		if v == "" {
			v = alt
		}
	}
	switch strings.TrimSuffix(strings.ToLower(v), "url") {
	case "", "public":
		return gophercloud.AvailabilityPublic, nil
	case "internal":
		return gophercloud.AvailabilityInternal, nil
	case "admin":
		return gophercloud.AvailabilityAdmin, nil
	}
	return "", fmt.Errorf("endpoint_type %q: allowed values are public, internal and admin", v)
}

// tlsConfig merges OS_CACERT/OS_CERT/OS_KEY/OS_INSECURE, the clouds.yaml
// entry and explicit fields (explicit wins).
func (cfg Config) tlsConfig(cloud *clientconfig.Cloud) (*tls.Config, error) {
	pick := func(explicit, fromCloud, env string) string {
		if explicit != "" {
			return explicit
		}
		if fromCloud != "" {
			return fromCloud
		}
		return os.Getenv(env)
	}
	caFile := pick(cfg.CACertFile, cloud.CACertFile, "OS_CACERT")
	certFile := pick(cfg.ClientCertFile, cloud.ClientCertFile, "OS_CERT")
	keyFile := pick(cfg.ClientKeyFile, cloud.ClientKeyFile, "OS_KEY")
	insecure := false
	if v := os.Getenv("OS_INSECURE"); v != "" {
		insecure = v == "1" || strings.EqualFold(v, "true")
	}
	if cloud.Verify != nil {
		insecure = !*cloud.Verify
	}
	if cfg.Insecure != nil {
		insecure = *cfg.Insecure
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // user's explicit choice
	if caFile != "" {
		pem, err := pathOrContents("cacert_file", caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("cacert_file holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("client certificate and key must be given together (cert and key)")
	}
	if certFile != "" {
		certPEM, err := pathOrContents("cert", certFile)
		if err != nil {
			return nil, err
		}
		keyPEM, err := pathOrContents("key", keyFile)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// isPEM tells PEM contents from a path.
func isPEM(v string) bool { return strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") }

// pathOrContents reads a setting that is either PEM contents or the path of
// a file holding them (terraform-provider-openstack's rule: contents start
// with "-----BEGIN"). The error never repeats the value: it may be a key.
func pathOrContents(name, v string) ([]byte, error) {
	if isPEM(v) {
		return []byte(v), nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

// providerClient authenticates against Keystone.
func (cfg Config) providerClient(ctx context.Context, o *options) (*gophercloud.ProviderClient, gophercloud.EndpointOpts, error) {
	ao, cloud, err := cfg.resolve()
	if err != nil {
		return nil, gophercloud.EndpointOpts{}, err
	}
	avail, err := cfg.availability(cloud)
	if err != nil {
		return nil, gophercloud.EndpointOpts{}, err
	}
	base := o.transport
	if base == nil {
		tc, err := cfg.tlsConfig(cloud)
		if err != nil {
			return nil, gophercloud.EndpointOpts{}, err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tc
		// A hung API worker must fail the request (and let it be retried),
		// not stall an operation whose context has no deadline (rollback).
		t.ResponseHeaderTimeout = responseHeaderTimeout
		base = t
	}
	if o.logger != nil && o.logger.Enabled(ctx, slog.LevelDebug) {
		base = withDebugLog(base, o.logger)
	}
	pc, err := gcos.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, gophercloud.EndpointOpts{}, fmt.Errorf("auth URL %q: %w", ao.IdentityEndpoint, err)
	}
	if cfg.UserAgent != "" {
		pc.UserAgent.Prepend(cfg.UserAgent)
	}
	pc.HTTPClient = http.Client{Transport: &retryTransport{
		next: base, maxRetries: cfg.maxRetries(), logger: o.logger,
	}}
	if err := gcos.Authenticate(ctx, pc, *ao); err != nil {
		return nil, gophercloud.EndpointOpts{}, fmt.Errorf("authenticating to %s: %w", ao.IdentityEndpoint, err)
	}
	return pc, gophercloud.EndpointOpts{Region: cfg.region(cloud), Availability: avail}, nil
}
