package vanilla

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// swiftExtras reads the Keystone URL and project Sahara's run used from a
// recorded core-site.xml: they are the environment, not plugin logic.
func swiftExtras(calls []conformance.Call) map[string]string {
	value := func(doc, name string) string {
		i := strings.Index(doc, "<name>"+name+"</name>")
		if i < 0 {
			return ""
		}
		rest := doc[i:]
		a, b := strings.Index(rest, "<value>"), strings.Index(rest, "</value>")
		return rest[a+len("<value>") : b]
	}
	for _, c := range calls {
		if strings.HasSuffix(c.RemoteFile, "core-site.xml") && c.Data != nil {
			return map[string]string{
				ExtraSwiftAuthURL: strings.TrimSuffix(value(*c.Data, "fs.swift.service.sahara.auth.url"), "auth/tokens/"),
				ExtraSwiftTenant:  value(*c.Data, "fs.swift.service.sahara.tenant"),
			}
		}
	}
	return map[string]string{}
}

func keypairOf(calls []conformance.Call) string {
	kp := keypair{}
	for _, c := range calls {
		if c.Method == conformance.MethodAppend && c.Data != nil {
			if strings.HasSuffix(c.RemoteFile, "/id_rsa") {
				kp.Private = *c.Data
			} else if strings.HasSuffix(c.RemoteFile, "/id_rsa.pub") {
				kp.Public = *c.Data
			}
		}
	}
	raw, _ := json.Marshal(kp)
	return string(raw)
}

// failOn makes one command on one host exit 1 ("simulated failure", as in
// the scenarios); everything else answers like sampleResponder.
func failOn(host, cmd string, next conformance.Responder) conformance.Responder {
	return func(h, c string, n int) sahara.Result {
		if h == host && c == cmd {
			return sahara.Result{ExitCode: 1, Stderr: []byte("simulated failure")}
		}
		return next(h, c, n)
	}
}

// TestConformance_OpsScenarios runs the plugin steps of Sahara's recorded
// operations (ops_state_machine.json) through the recording remote: create,
// scale up, scale down, a scale whose datanode start fails and a create
// whose namenode format fails. A failing step must stop at the same call.
func TestConformance_OpsScenarios(t *testing.T) {
	dir := conformance.Dir(t)
	ops := conformance.LoadOps(t, dir, Name)
	ctx := context.Background()
	create := ops.Scenario(t, "create (3 workers)")
	kp := keypairOf(create.PluginCalls())

	for _, tc := range []struct {
		scenario string
		extra    []string
		respond  func(c *sahara.Cluster) conformance.Responder
		run      func(p *Plugin, c *sahara.Cluster, r sahara.Remotes) error
		wantErr  string
	}{
		{
			scenario: "create (3 workers)",
			run: func(p *Plugin, c *sahara.Cluster, r sahara.Remotes) error {
				if err := p.ConfigureCluster(ctx, c, r); err != nil {
					return err
				}
				return p.StartCluster(ctx, c, r)
			},
		},
		{
			scenario: "scale up worker 3 -> 4",
			run: func(p *Plugin, c *sahara.Cluster, r sahara.Remotes) error {
				return p.ScaleCluster(ctx, c, r, []*sahara.Instance{c.Instance("opsdemo-worker-3")})
			},
		},
		{
			scenario: "scale down worker 4 -> 2",
			extra:    []string{"opsdemo-worker-2", "opsdemo-worker-3"},
			run: func(p *Plugin, c *sahara.Cluster, r sahara.Remotes) error {
				return p.DecommissionNodes(ctx, c, r, []*sahara.Instance{c.Instance("opsdemo-worker-3"), c.Instance("opsdemo-worker-2")})
			},
		},
		{
			scenario: "scale up worker 2 -> 3 with failing plugin.scale_cluster",
			respond: func(c *sahara.Cluster) conformance.Responder {
				return failOn("opsdemo-worker-2", hadoop2.startDataNode, sampleResponder(3, nil))
			},
			run: func(p *Plugin, c *sahara.Cluster, r sahara.Remotes) error {
				return p.ScaleCluster(ctx, c, r, []*sahara.Instance{c.Instance("opsdemo-worker-2")})
			},
			wantErr: `"sudo su - -c \"hadoop-daemon.sh start datanode\" hadoop" exited with status 1`,
		},
		{
			scenario: "create with namenode format failure",
			respond: func(c *sahara.Cluster) conformance.Responder {
				return failOn("failing-master-0", asHadoop("hdfs namenode -format"), sampleResponder(3, nil))
			},
			run: func(p *Plugin, c *sahara.Cluster, r sahara.Remotes) error {
				if err := p.ConfigureCluster(ctx, c, r); err != nil {
					return err
				}
				return p.StartCluster(ctx, c, r)
			},
			wantErr: `"sudo su - -c \"hdfs namenode -format\" hadoop" exited with status 1`,
		},
	} {
		s := ops.Scenario(t, tc.scenario)
		t.Run(strings.ReplaceAll(tc.scenario, " ", "_"), func(t *testing.T) {
			want := substitute(s.PluginCalls())
			c := ops.Cluster(s, tc.extra...)
			c.Extra = swiftExtras(create.PluginCalls())
			if !strings.HasPrefix(tc.scenario, "create") {
				c.Extra[ExtraKeypair] = kp
			} else {
				c.Extra[ExtraKeypair] = keypairOf(want)
			}
			respond := sampleResponder(3, []string{"opsdemo-worker-3.novalocal", "opsdemo-worker-2.novalocal"})
			if tc.respond != nil {
				respond = tc.respond(c)
			}
			rec := conformance.NewRecorder(t, want, respond)
			p := New(Options{Sleep: rec.Sleep, Now: rec.Now, Parallelism: 1})
			err := tc.run(p, c, rec)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("%v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %s", err, tc.wantErr)
			}
			rec.Finish()
			identical := 0
			for i, got := range rec.Calls() {
				if i < len(want) && got.Matches(want[i]) == "" {
					identical++
				}
			}
			conformance.Report(t, Name, "ops "+tc.scenario, identical, len(want))
		})
	}
}

// TestConformance_Autoconfig recommends configs for the scenarios' template
// and compares them with the node configs Sahara stored. The fake Nova's
// flavor "42" was not recorded; its size (8 GiB, 4 vCPUs) is the one
// Sahara's formulas need to give the recorded 8 containers of 768 MiB.
func TestConformance_Autoconfig(t *testing.T) {
	dir := conformance.Dir(t)
	ops := conformance.LoadOps(t, dir, Name)
	s := ops.Scenario(t, "create (3 workers)")
	c := ops.Cluster(s)
	for _, ng := range c.NodeGroups {
		ng.NodeConfigs = nil
	}
	if err := New(Options{}).RecommendConfigs(context.Background(), c, map[string]Flavor{"42": {VCPUs: 4, RAMMB: 8192}}, false); err != nil {
		t.Fatal(err)
	}
	same, total := 0, 0
	for i, ng := range c.NodeGroups {
		want := s.ClusterAfter.NodeGroups[i].NodeConfigs
		for target, m := range want {
			for name, v := range m {
				total++
				got, _ := ng.NodeConfigs.Get(target, name)
				if sahara.AsString(got) != sahara.AsString(v) {
					t.Errorf("%s %s/%s = %v, want %v", ng.Name, target, name, got, v)
					continue
				}
				same++
			}
		}
		if n := len(ng.NodeConfigs[SvcYARN]) + len(ng.NodeConfigs[SvcMapReduce]); n != 11 {
			t.Errorf("%s: %d configs recommended, want 11", ng.Name, n)
		}
	}
	if got, _ := c.ClusterConfigs.Get(SvcHDFS, CfgReplication); sahara.AsString(got) != "2" {
		t.Errorf("dfs.replication = %v, want the user's 2 kept", got)
	}
	if c.Extra[ExtraAutoConfigured] == "" {
		t.Error("cluster not marked auto-configured")
	}
	conformance.Report(t, Name, "autoconfig", same, total)
}

func TestRecommendConfigs_UserValuesAndScaling(t *testing.T) {
	p := New(Options{})
	flavors := map[string]Flavor{"": {VCPUs: 2, RAMMB: 2048}}
	c := testCluster(V282, 2)
	c.NodeGroup("worker").NodeConfigs = sahara.Configs{SvcYARN: {"yarn.nodemanager.resource.memory-mb": "1000"}}
	if err := p.RecommendConfigs(context.Background(), c, flavors, true); err != nil || c.NodeGroup("master").NodeConfigs != nil {
		t.Fatalf("scaling a cluster never auto-configured changed it: %v %v", err, c.NodeGroup("master").NodeConfigs)
	}
	if err := p.RecommendConfigs(context.Background(), c, flavors, false); err != nil {
		t.Fatal(err)
	}
	if got := c.NodeGroup("worker").NodeConfigs[SvcYARN]; len(got) != 1 {
		t.Errorf("a group with a user value got recommendations: %v", got)
	}
	// 2 GiB: 8 containers of max((2048-1024)/8, 256) = 256 MiB.
	if got, _ := c.NodeGroup("master").NodeConfigs.Get(SvcYARN, "yarn.nodemanager.resource.memory-mb"); got != 2048 {
		t.Errorf("master memory-mb = %v, want 2048", got)
	}
	if got, _ := c.ClusterConfigs.Get(SvcHDFS, CfgReplication); got != 2 {
		t.Errorf("dfs.replication = %v, want min(3, 2 datanodes)", got)
	}
	if err := p.RecommendConfigs(context.Background(), testCluster(V282, 1), map[string]Flavor{}, false); err == nil {
		t.Error("no error for a flavor without size")
	}
}
