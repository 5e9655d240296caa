package openstack

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// At DEBUG every request is logged with its headers and JSON body, the
// User-Agent names saharagen, and no password, token, private key or secret
// config reaches the log.
func TestDebugLog_MasksEverySecret(t *testing.T) {
	clearOSEnv(t)
	ks := fakeKeystone(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{AuthURL: ks.URL + "/v3", UserName: "u", Password: "pw-Xq7-secret", TenantName: "p", UserDomainName: "Default",
		ProjectDomainName: "Default", Region: "R1", UserAgent: "terraform-provider-saharagen/1.2.3",
		EndpointOverrides: map[string]string{"object-store": ks.URL + "/swift-override"}}
	ctx := context.Background()
	c, err := New(ctx, cfg, WithTransport(newCounter(nil)), WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Store(ctx, "my-container")
	if err != nil {
		t.Fatal(err)
	}
	record := map[string]any{
		"id":                     "t1",
		"management_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----\n",
		"extra":                  map[string]any{"vanilla_keypair": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"},
		"node_configs":           map[string]any{"HDFS": map[string]any{"fs.s3a.secret.key": "s3a-Zk9-secret", "dfs.replication": "2"}},
	}
	if err := s.Put(ctx, sahara.KindNodeGroupTemplate, "t1", record); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"OpenStack Request URL: POST " + ks.URL + "/v3/auth/tokens", "/swift-override/my-container/node-group-templates",
		"terraform-provider-saharagen/1.2.3", "dfs.replication", `X-Auth-Token: ***`} {
		if !strings.Contains(out, want) {
			t.Errorf("the debug log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"pw-Xq7-secret", "PRIVATE KEY", "b3BlbnNzaC1rZXk", "MIIEow", "s3a-Zk9-secret", "X-Auth-Token: tok", "X-Subject-Token: tok"} {
		if strings.Contains(out, secret) {
			t.Errorf("the debug log holds %q", secret)
		}
	}
}

func TestMaskJSON_NeverReturnsTheRawBody(t *testing.T) {
	for _, raw := range []string{`not json password=hunter2`, `{"password": "hunter2"`, `["-----BEGIN PRIVATE KEY----- hunter2"]`} {
		got, err := maskJSON([]byte(raw))
		if err != nil || strings.Contains(got, "hunter2") {
			t.Errorf("maskJSON(%q) = %q, %v", raw, got, err)
		}
	}
}
