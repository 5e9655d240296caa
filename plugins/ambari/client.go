package ambari

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// serverAddr is where the Ambari server listens, as seen from its own
// instance: the plugin reaches it through that instance, so port 8080 need
// not be open to the provider's host.
const serverAddr = "127.0.0.1:8080"

// Endpoint is how the plugin reaches one Ambari server: an HTTP client, the
// base URL of the server ("http://host:port"), and a probe that tells
// whether the server accepts TCP connections.
type Endpoint struct {
	Client  *http.Client
	BaseURL string
	Probe   func(ctx context.Context) error
}

// Connector returns the Endpoint of the Ambari server running on server,
// whose remote is r.
type Connector func(ctx context.Context, server *sahara.Instance, r sahara.Remote) (Endpoint, error)

// dialThroughRemote reaches 127.0.0.1:8080 on the Ambari instance through
// the SSH connection the engine holds (direct-tcpip), as Sahara's remote
// did with its HTTP session over the instance.
func dialThroughRemote(_ context.Context, server *sahara.Instance, r sahara.Remote) (Endpoint, error) {
	d, ok := r.(sahara.Dialer)
	if !ok {
		return Endpoint{}, fmt.Errorf("%s: the remote of the Ambari server cannot open TCP connections from the instance (%T is no sahara.Dialer)", server.InstanceName, r)
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", serverAddr)
	}
	return Endpoint{
		Client: &http.Client{Transport: &http.Transport{DialContext: dial, MaxIdleConns: 2, IdleConnTimeout: 30 * time.Second}, Timeout: 5 * time.Minute},
		// The host part is only a label: every connection goes to serverAddr.
		BaseURL: "http://" + serverAddr,
		Probe: func(ctx context.Context) error {
			c, err := dial(ctx, "tcp", serverAddr)
			if err != nil {
				return err
			}
			return c.Close()
		},
	}, nil
}

// randomPassword is 128 random bits, hex.
func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// client is a small typed client of Ambari's REST API (/api/v1), the calls
// Sahara's AmbariClient makes. Errors name the method and path, never the
// credentials.
type client struct {
	ep             Endpoint
	user, password string
}

// apiError is a non-2xx answer of Ambari.
type apiError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("Ambari %s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func isNotFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// do sends one request; body (when not nil) is sent as JSON; the answer, if
// any, is decoded into out (when not nil).
func (cl *client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("ambari %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, cl.ep.BaseURL+"/api/v1"+path, rd)
	if err != nil {
		return fmt.Errorf("ambari %s %s: %w", method, path, err)
	}
	req.SetBasicAuth(cl.user, cl.password)
	req.Header.Set("X-Requested-By", "sahara")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cl.ep.Client.Do(req)
	if err != nil {
		return fmt.Errorf("ambari %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("ambari %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		return &apiError{Method: method, Path: path, Status: resp.StatusCode, Message: shorten(e.Message, 300)}
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("ambari %s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func esc(s string) string { return url.PathEscape(s) }

// requestRef is Ambari's answer to an asynchronous operation.
type requestRef struct {
	Requests *struct {
		ID int `json:"id"`
	} `json:"Requests"`
}

func (r requestRef) id(op string) (int, error) {
	if r.Requests == nil {
		return 0, fmt.Errorf("ambari %s: no request id in the answer", op)
	}
	return r.Requests.ID, nil
}

// RequestStatus is Ambari's state of a request.
type requestStatus struct {
	Requests struct {
		ID       int     `json:"id"`
		Status   string  `json:"request_status"`
		Context  string  `json:"request_context"`
		Progress float64 `json:"progress_percent"`
	} `json:"Requests"`
}

func (cl *client) updateUserPassword(ctx context.Context, user, oldPassword, newPassword string) error {
	return cl.do(ctx, http.MethodPut, "/users/"+esc(user), map[string]any{"Users": map[string]string{"old_password": oldPassword, "password": newPassword}}, nil)
}

func (cl *client) registeredHosts(ctx context.Context) ([]string, error) {
	var out struct {
		Items []struct {
			Hosts struct {
				Name string `json:"host_name"`
			} `json:"Hosts"`
		} `json:"items"`
	}
	if err := cl.do(ctx, http.MethodGet, "/hosts", nil, &out); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(out.Items))
	for _, it := range out.Items {
		names = append(names, it.Hosts.Name)
	}
	return names, nil
}

func (cl *client) hostOSType(ctx context.Context, host string) (string, error) {
	var out struct {
		Hosts struct {
			OSType string `json:"os_type"`
		} `json:"Hosts"`
	}
	err := cl.do(ctx, http.MethodGet, "/hosts/"+esc(host), nil, &out)
	return out.Hosts.OSType, err
}

func (cl *client) setUpMirror(ctx context.Context, stackVersion, osType, repoID, repoURL string) error {
	path := fmt.Sprintf("/stacks/HDP/versions/%s/operating_systems/%s/repositories/%s", esc(stackVersion), esc(osType), esc(repoID))
	return cl.do(ctx, http.MethodPut, path, map[string]any{"Repositories": map[string]any{"base_url": repoURL, "verify_base_url": true}}, nil)
}

func (cl *client) createBlueprint(ctx context.Context, name string, bp any) error {
	return cl.do(ctx, http.MethodPost, "/blueprints/"+esc(name), bp, nil)
}

func (cl *client) createCluster(ctx context.Context, name string, tmpl any) (int, error) {
	var ref requestRef
	if err := cl.do(ctx, http.MethodPost, "/clusters/"+esc(name), tmpl, &ref); err != nil {
		return 0, err
	}
	return ref.id("cluster creation")
}

func (cl *client) requestStatus(ctx context.Context, cluster string, id int) (requestStatus, error) {
	var st requestStatus
	err := cl.do(ctx, http.MethodGet, fmt.Sprintf("/clusters/%s/requests/%d", esc(cluster), id), nil, &st)
	return st, err
}

func (cl *client) addHostToCluster(ctx context.Context, cluster, host string) error {
	return cl.do(ctx, http.MethodPost, fmt.Sprintf("/clusters/%s/hosts/%s", esc(cluster), esc(host)), nil, nil)
}

func (cl *client) createConfigGroups(ctx context.Context, cluster string, groups any) error {
	return cl.do(ctx, http.MethodPost, fmt.Sprintf("/clusters/%s/config_groups", esc(cluster)), groups, nil)
}

func (cl *client) configGroupIDs(ctx context.Context, cluster string) ([]int, error) {
	var out struct {
		Items []struct {
			ConfigGroup struct {
				ID int `json:"id"`
			} `json:"ConfigGroup"`
		} `json:"items"`
	}
	if err := cl.do(ctx, http.MethodGet, fmt.Sprintf("/clusters/%s/config_groups", esc(cluster)), nil, &out); err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(out.Items))
	for _, it := range out.Items {
		ids = append(ids, it.ConfigGroup.ID)
	}
	return ids, nil
}

func (cl *client) configGroupName(ctx context.Context, cluster string, id int) (string, error) {
	var out struct {
		ConfigGroup struct {
			Name string `json:"group_name"`
		} `json:"ConfigGroup"`
	}
	err := cl.do(ctx, http.MethodGet, fmt.Sprintf("/clusters/%s/config_groups/%d", esc(cluster), id), nil, &out)
	return out.ConfigGroup.Name, err
}

func (cl *client) removeConfigGroup(ctx context.Context, cluster string, id int) error {
	return cl.do(ctx, http.MethodDelete, fmt.Sprintf("/clusters/%s/config_groups/%d", esc(cluster), id), nil, nil)
}

func hostComponentPath(cluster, host, component string) string {
	return fmt.Sprintf("/clusters/%s/hosts/%s/host_components/%s", esc(cluster), esc(host), esc(component))
}

func (cl *client) addComponentToHost(ctx context.Context, cluster, host, component string) error {
	return cl.do(ctx, http.MethodPost, hostComponentPath(cluster, host, component), nil, nil)
}

// setComponentState moves a host component to state (INSTALLED, STARTED)
// and returns the request id.
func (cl *client) setComponentState(ctx context.Context, cluster, host, component, state string) (int, error) {
	body := map[string]any{
		"HostRoles":   map[string]string{"state": state},
		"RequestInfo": map[string]string{"context": fmt.Sprintf("Starting service %s, moving to state %s", component, state)},
	}
	var ref requestRef
	if err := cl.do(ctx, http.MethodPut, hostComponentPath(cluster, host, component), body, &ref); err != nil {
		return 0, err
	}
	return ref.id("moving " + component + " to " + state)
}

func (cl *client) hostComponents(ctx context.Context, cluster, host string) ([]string, error) {
	var out struct {
		HostComponents []struct {
			HostRoles struct {
				Component string `json:"component_name"`
			} `json:"HostRoles"`
		} `json:"host_components"`
	}
	if err := cl.do(ctx, http.MethodGet, fmt.Sprintf("/clusters/%s/hosts/%s", esc(cluster), esc(host)), nil, &out); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(out.HostComponents))
	for _, hc := range out.HostComponents {
		names = append(names, hc.HostRoles.Component)
	}
	return names, nil
}

func (cl *client) componentState(ctx context.Context, cluster, host, component string) (string, error) {
	var out struct {
		HostRoles struct {
			State string `json:"state"`
		} `json:"HostRoles"`
	}
	err := cl.do(ctx, http.MethodGet, hostComponentPath(cluster, host, component), nil, &out)
	return out.HostRoles.State, err
}

// stopComponent stops a host component unless it is stopped (INSTALLED)
// and returns the request id, or 0 when there was nothing to do.
func (cl *client) stopComponent(ctx context.Context, cluster, host, component string) (int, error) {
	st, err := cl.componentState(ctx, cluster, host, component)
	if err != nil || st == "INSTALLED" {
		return 0, err
	}
	body := map[string]any{"HostRoles": map[string]string{"state": "INSTALLED"}, "RequestInfo": map[string]string{"context": "Stopping " + component}}
	var ref requestRef
	if err := cl.do(ctx, http.MethodPut, hostComponentPath(cluster, host, component), body, &ref); err != nil {
		return 0, err
	}
	return ref.id("stopping " + component)
}

func (cl *client) removeComponent(ctx context.Context, cluster, host, component string) error {
	return cl.do(ctx, http.MethodDelete, hostComponentPath(cluster, host, component), nil, nil)
}

func (cl *client) deleteHost(ctx context.Context, cluster, host string) error {
	return cl.do(ctx, http.MethodDelete, fmt.Sprintf("/clusters/%s/hosts/%s", esc(cluster), esc(host)), nil, nil)
}

// postRequest posts an action request (decommission, restart) and returns its id.
func (cl *client) postRequest(ctx context.Context, cluster string, body map[string]any) (int, error) {
	var ref requestRef
	if err := cl.do(ctx, http.MethodPost, fmt.Sprintf("/clusters/%s/requests", esc(cluster)), body, &ref); err != nil {
		return 0, err
	}
	return ref.id("request")
}

func decommissionRequest(cluster, slaveType, service, component string, hosts []string) map[string]any {
	ctxName := map[string]string{"DATANODE": "Decommission DataNodes", "NODEMANAGER": "Decommission NodeManagers"}[slaveType]
	return map[string]any{
		"RequestInfo": map[string]any{
			"context":         ctxName,
			"command":         "DECOMMISSION",
			"parameters":      map[string]string{"slave_type": slaveType, "excluded_hosts": strings.Join(hosts, ",")},
			"operation_level": map[string]string{"level": "HOST_COMPONENT", "cluster_name": cluster},
		},
		"Requests/resource_filters": []map[string]string{{"service_name": service, "component_name": component}},
	}
}

func restartRequest(cluster, what, service, component, host string) map[string]any {
	return map[string]any{
		"RequestInfo": map[string]any{
			"context":         "Restart " + what,
			"command":         "RESTART",
			"operation_level": map[string]string{"level": "HOST", "cluster_name": cluster},
		},
		"Requests/resource_filters": []map[string]string{{"service_name": service, "component_name": component, "hosts": host}},
	}
}
