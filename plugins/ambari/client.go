package ambari

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Connector returns the HTTP client and base URL ("http://host:port") the
// plugin reaches the Ambari server of a cluster with; server is the
// instance running it and r its remote.
type Connector func(ctx context.Context, server *sahara.Instance, r sahara.Remote) (*http.Client, string, error)

func dialThroughRemote(ctx context.Context, server *sahara.Instance, r sahara.Remote) (*http.Client, string, error) {
	return nil, "", nil
}

func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
