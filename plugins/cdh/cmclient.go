package cdh

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// apiVersion is the Cloudera Manager API version Sahara's client speaks.
const apiVersion = 8

// cmClient is a small typed client of the Cloudera Manager REST API (the
// calls Sahara's cm_api copy makes), over net/http: the one place the
// plugin talks HTTP. Its password is a secret and never logged.
type cmClient struct {
	http     *http.Client
	base     string // http://host:7180/api/v8
	user     string
	password string
	sleep    func(ctx context.Context, d time.Duration) error
}

// cmError is an API answer with an error status; the body is Cloudera
// Manager's message (never a request, which may hold passwords).
type cmError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *cmError) Error() string {
	return fmt.Sprintf("Cloudera Manager: %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

func (c *cmClient) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.user, c.password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error names the URL only: no credentials are in it.
		return fmt.Errorf("cloudera manager: %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("cloudera manager: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := string(raw)
		if len(msg) > 500 {
			msg = msg[:500]
		}
		return &cmError{Method: method, Path: path, Status: resp.StatusCode, Body: msg}
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("cloudera manager: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// API objects (the fields the plugin sends or reads).
type (
	apiUser struct {
		Name     string   `json:"name"`
		Password string   `json:"password,omitempty"`
		Roles    []string `json:"roles,omitempty"`
	}
	apiHostRef struct {
		HostID string `json:"hostId"`
	}
	apiHost struct {
		HostID    string `json:"hostId"`
		Hostname  string `json:"hostname"`
		IPAddress string `json:"ipAddress"`
	}
	apiRole struct {
		HostRef apiHostRef `json:"hostRef"`
		Name    string     `json:"name"`
		Type    string     `json:"type"`
	}
	apiMgmtRole struct {
		Config  *struct{}  `json:"config"`
		HostRef apiHostRef `json:"hostRef"`
		Name    string     `json:"name"`
		Type    string     `json:"type"`
	}
	apiCommand struct {
		ID            int          `json:"id"`
		Name          string       `json:"name"`
		Active        bool         `json:"active"`
		Success       bool         `json:"success"`
		ResultMessage string       `json:"resultMessage"`
		Children      *apiCommands `json:"children"`
	}
	apiCommands struct {
		Items []apiCommand `json:"items"`
	}
	apiConfig struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	}
	apiConfigList struct {
		Items []apiConfig `json:"items"`
	}
	nameList struct {
		Items []string `json:"items"`
	}
	apiJournalNode struct {
		JNEditsDir string `json:"jnEditsDir"`
		JNHostID   string `json:"jnHostId"`
		JNName     string `json:"jnName"`
	}
)

func (c *cmClient) getUser(ctx context.Context, name string) (apiUser, error) {
	var u apiUser
	err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(name), nil, nil, &u)
	return u, err
}

func (c *cmClient) updateUser(ctx context.Context, u apiUser) error {
	return c.do(ctx, http.MethodPut, "/users/"+url.PathEscape(u.Name), nil, u, nil)
}

func (c *cmClient) hosts(ctx context.Context) ([]apiHost, error) {
	var out struct {
		Items []apiHost `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, "/hosts", url.Values{"view": {"full"}}, nil, &out)
	return out.Items, err
}

func (c *cmClient) createMgmtService(ctx context.Context, roles []apiMgmtRole) error {
	return c.do(ctx, http.MethodPut, "/cm/service", nil, map[string]any{"roles": roles}, nil)
}

func (c *cmClient) hostsStartRoles(ctx context.Context, hosts ...string) (apiCommand, error) {
	var cmd apiCommand
	err := c.do(ctx, http.MethodPost, "/cm/commands/hostsStartRoles", nil, nameList{hosts}, &cmd)
	return cmd, err
}

func (c *cmClient) createCluster(ctx context.Context, name, version string) error {
	body := map[string]any{"items": []map[string]string{{"fullVersion": version, "name": name}}}
	return c.do(ctx, http.MethodPost, "/clusters", nil, body, nil)
}

func clusterPath(cluster string) string { return "/clusters/" + url.PathEscape(cluster) }

func servicePath(cluster, service string) string {
	return clusterPath(cluster) + "/services/" + url.PathEscape(service)
}

// getCluster and getService are the look-ups cm_api makes before acting
// on a cluster or service; their answers are not needed, but a missing
// cluster or service fails here as it does in Sahara.
func (c *cmClient) getCluster(ctx context.Context, cluster string) error {
	return c.do(ctx, http.MethodGet, clusterPath(cluster), nil, nil, nil)
}

func (c *cmClient) getService(ctx context.Context, cluster, service string) error {
	if err := c.getCluster(ctx, cluster); err != nil {
		return err
	}
	return c.getServiceOnly(ctx, cluster, service)
}

// getServiceOnly looks a service up in a cluster already looked up.
func (c *cmClient) getServiceOnly(ctx context.Context, cluster, service string) error {
	return c.do(ctx, http.MethodGet, servicePath(cluster, service), nil, nil, nil)
}

func (c *cmClient) createService(ctx context.Context, cluster, name, typ string) error {
	body := map[string]any{"items": []map[string]string{{"name": name, "type": typ}}}
	return c.do(ctx, http.MethodPost, clusterPath(cluster)+"/services", nil, body, nil)
}

func (c *cmClient) updateServiceConfig(ctx context.Context, cluster, service string, cfg orderedConfigs) error {
	return c.do(ctx, http.MethodPut, servicePath(cluster, service)+"/config", nil, cfg.serviceBody(), nil)
}

func (c *cmClient) createRole(ctx context.Context, cluster, service string, r apiRole) error {
	return c.do(ctx, http.MethodPost, servicePath(cluster, service)+"/roles", nil, map[string]any{"items": []apiRole{r}}, nil)
}

func (c *cmClient) updateRoleConfig(ctx context.Context, cluster, service, role string, cfg orderedConfigs) error {
	return c.do(ctx, http.MethodPut, servicePath(cluster, service)+"/roles/"+url.PathEscape(role)+"/config", nil, cfg.listBody(), nil)
}

func (c *cmClient) roles(ctx context.Context, cluster, service string) ([]apiRole, error) {
	var out struct {
		Items []apiRole `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, servicePath(cluster, service)+"/roles", nil, nil, &out)
	return out.Items, err
}

func (c *cmClient) deleteRole(ctx context.Context, cluster, service, role string) error {
	return c.do(ctx, http.MethodDelete, servicePath(cluster, service)+"/roles/"+url.PathEscape(role), nil, nil, nil)
}

func (c *cmClient) clusterCommand(ctx context.Context, cluster, command string, body any) (apiCommand, error) {
	var cmd apiCommand
	err := c.do(ctx, http.MethodPost, clusterPath(cluster)+"/commands/"+command, nil, body, &cmd)
	return cmd, err
}

func (c *cmClient) serviceCommand(ctx context.Context, cluster, service, command string, body any) (apiCommand, error) {
	var cmd apiCommand
	err := c.do(ctx, http.MethodPost, servicePath(cluster, service)+"/commands/"+command, nil, body, &cmd)
	return cmd, err
}

// roleCommand runs a command on roles; Cloudera Manager answers one
// command per role.
func (c *cmClient) roleCommand(ctx context.Context, cluster, service, command string, roles ...string) ([]apiCommand, error) {
	var out apiCommands
	err := c.do(ctx, http.MethodPost, servicePath(cluster, service)+"/roleCommands/"+command, nil, nameList{roles}, &out)
	return out.Items, err
}

func (c *cmClient) removeHost(ctx context.Context, cluster, hostID string) error {
	return c.do(ctx, http.MethodDelete, clusterPath(cluster)+"/hosts/"+url.PathEscape(hostID), nil, nil, nil)
}

func (c *cmClient) deleteHost(ctx context.Context, hostID string) error {
	return c.do(ctx, http.MethodDelete, "/hosts/"+url.PathEscape(hostID), nil, nil, nil)
}

// waiter is wait for a call that returns the command: waiter(ctx)(c.serviceCommand(…)).
func (c *cmClient) waiter(ctx context.Context) func(apiCommand, error) error {
	return func(cmd apiCommand, err error) error { return c.wait(ctx, cmd, err) }
}

// wait polls a command until it ends, then fails unless it (and, when it
// has them, each of its children) succeeded — Sahara's cloudera_cmd.
func (c *cmClient) wait(ctx context.Context, cmd apiCommand, err error) error {
	if err != nil {
		return err
	}
	for cmd.Active {
		if cmd.ID != 0 {
			if err := c.do(ctx, http.MethodGet, "/commands/"+strconv.Itoa(cmd.ID), nil, nil, &cmd); err != nil {
				return err
			}
		}
		if !cmd.Active {
			break
		}
		if err := c.sleep(ctx, 5*time.Second); err != nil {
			return err
		}
	}
	if cmd.Success {
		return nil
	}
	if cmd.Children != nil {
		for _, ch := range cmd.Children.Items {
			if !ch.Success {
				return fmt.Errorf("cloudera manager command %s: %s", cmd.Name, ch.ResultMessage)
			}
		}
	}
	return fmt.Errorf("cloudera manager command %s: %s", cmd.Name, cmd.ResultMessage)
}

// orderedConfigs are configs in the order Sahara's dict merges give them
// (insertion order, updates in place).
type orderedConfigs []apiConfig

func (o *orderedConfigs) set(name string, v any) {
	for i := range *o {
		if (*o)[i].Name == name {
			(*o)[i].Value = v
			return
		}
	}
	*o = append(*o, apiConfig{Name: name, Value: v})
}

// serviceBody is a service config update: cm_api sends {} when empty.
func (o orderedConfigs) serviceBody() any {
	if len(o) == 0 {
		return struct{}{}
	}
	return apiConfigList{Items: o}
}

func (o orderedConfigs) listBody() apiConfigList {
	if o == nil {
		o = orderedConfigs{}
	}
	return apiConfigList{Items: o}
}
