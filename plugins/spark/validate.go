package spark

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// scalable are the processes whose node groups may be resized
// (Sahara's _get_scalable_processes).
var scalable = map[string]bool{ProcDataNode: true, ProcSlave: true}

// Validate implements sahara.Validator: Sahara's validate, rule by rule and
// in its order (its quirk included: the "1 or more datanode" message gives
// the namenode count), with an integer config given as a string read as
// the integer (Sahara crashes). Then saharagen's own rules: the values that
// end up in spark-env.sh, spark-defaults.conf and scripts must be what
// Spark reads and shell-inert.
func (p *Plugin) Validate(ctx context.Context, c *sahara.Cluster) error {
	if err := checkVersion(c.PluginVersion); err != nil {
		return sahara.InvalidReference(err.Error()).At(sahara.Field{Attribute: "plugin_version"})
	}
	count := c.ProcessCount
	nn, dn := count(ProcNameNode), count(ProcDataNode)
	if nn != 1 {
		return sahara.InvalidComponentCount(ProcNameNode, 1, nn, "")
	}
	if dn < 1 {
		return sahara.InvalidComponentCount(ProcDataNode, "1 or more", nn, "")
	}
	rep, err := intConfig(c, SvcHDFS, CfgReplication)
	if err != nil {
		return err
	}
	if dn < rep {
		return sahara.InvalidComponentCount(ProcDataNode, fmt.Sprintf("%d or more", rep), dn, "Number of datanode instances should not be less than dfs.replication")
	}
	sm := count(ProcMaster)
	if sm < 1 {
		return sahara.RequiredServiceMissing("Spark master", "")
	}
	if sm >= 2 {
		return sahara.InvalidComponentCount("Spark master", "1", sm, "").At(processField(c, ProcMaster))
	}
	if sl := count(ProcSlave); sl < 1 {
		return sahara.InvalidComponentCount("Spark slave", "1 or more", sl, "").At(processField(c, ProcSlave))
	}
	return checkDeliverable(c)
}

// processField is where a count error about proc belongs: the count of
// the one node group running it, else the node groups.
func processField(c *sahara.Cluster, proc string) sahara.Field {
	var with []string
	for _, ng := range c.NodeGroups {
		if ng.HasProcess(proc) {
			with = append(with, ng.Name)
		}
	}
	if len(with) == 1 {
		return sahara.Field{NodeGroup: with[0], Attribute: "count"}
	}
	return sahara.Field{Attribute: sahara.FieldNodeGroups}
}

var (
	plainPathRE  = regexp.MustCompile(`^/[A-Za-z0-9/._-]*$`)
	classpathRE  = regexp.MustCompile(`^(/[A-Za-z0-9/._*-]*)(:/[A-Za-z0-9/._*-]*)*$`)
	memoryRE     = regexp.MustCompile(`^[1-9][0-9]*[kKmMgGtT]?$`)
	positiveIntR = regexp.MustCompile(`^[1-9][0-9]*$`)
)

// checkDeliverable refuses, after Sahara's rules, the Spark option values
// that would break the files and scripts the plugin writes: spark-env.sh
// is sourced by bash, so its values must be shell-inert and what Spark
// reads; the paths go into scripts; volume mount prefixes become storage
// paths in the HDFS setup script.
func checkDeliverable(c *sahara.Cluster) error {
	type rule struct {
		name string
		ok   func(string) bool
		want string
	}
	port := func(s string) bool {
		n, err := sahara.AsInt(s)
		return err == nil && positiveIntR.MatchString(strings.TrimSpace(s)) && n <= 65535
	}
	rules := []rule{
		{CfgMasterPort, port, "a port number"},
		{CfgMasterWebUIPort, port, "a port number"},
		{CfgWorkerWebUIPort, port, "a port number"},
		{CfgWorkerPort, func(s string) bool { return s == "random" || port(s) }, `a port number or "random"`},
		{CfgWorkerCores, func(s string) bool { return s == "all" || positiveIntR.MatchString(s) }, `a positive number or "all"`},
		{CfgWorkerMemory, func(s string) bool { return s == "all" || memoryRE.MatchString(s) }, `a size such as 1000m or 2g, or "all"`},
		{CfgWorkerInstances, positiveIntR.MatchString, "a positive number"},
		{CfgSparkHome, plainPathRE.MatchString, `an absolute path of letters, digits and "/._-"`},
		{CfgExecutorClasspath, func(s string) bool { return s == "" || classpathRE.MatchString(s) }, `absolute paths of letters, digits and "/._*-" separated by ":"`},
	}
	for _, r := range rules {
		v, err := stringConfig(c, SvcSpark, r.name)
		if err != nil {
			return err
		}
		if !r.ok(v) {
			return sahara.InvalidData(fmt.Sprintf("Spark config %q is %q: saharagen needs %s", r.name, v, r.want)).At(configField(c, SvcSpark, r.name))
		}
	}
	for _, ng := range c.NodeGroups {
		if ng.VolumesPerNode > 0 && !plainPathRE.MatchString(ng.MountPrefix()) {
			return sahara.InvalidData(fmt.Sprintf("Node group %s: volume_mount_prefix %q must be an absolute path of letters, digits and \"/._-\"", ng.Name, ng.MountPrefix())).
				At(sahara.Field{NodeGroup: ng.Name, Attribute: "volume_mount_prefix"})
		}
	}
	return nil
}

// configField is the attribute that sets a config as Sahara's lookup sees
// it: the node configs of the first node group setting it, else the
// cluster configs.
func configField(c *sahara.Cluster, target, name string) sahara.Field {
	for _, ng := range c.NodeGroups {
		if _, ok := ng.NodeConfigs.Get(target, name); ok {
			return sahara.ConfigField(ng, target, name)
		}
	}
	return sahara.ConfigField(nil, target, name)
}

// ValidateScaling implements sahara.ScalingValidator: Sahara's
// validate_scaling (resized node groups, then new ones), with an integer
// config given as a string read as the integer.
func (p *Plugin) ValidateScaling(ctx context.Context, c *sahara.Cluster, existing, additional map[string]int) error {
	if err := checkVersion(c.PluginVersion); err != nil {
		return sahara.InvalidReference(err.Error()).At(sahara.Field{Attribute: "plugin_version"})
	}
	dnToDelete, bad := hadoop.ResizedGroups(c, existing, scalable, ProcDataNode)
	if bad != nil {
		return cannotScale(bad)
	}
	if err := checkShrink(c, dnToDelete); err != nil {
		return err
	}
	for _, ng := range c.NodeGroups {
		if _, ok := additional[ng.Name]; ok && !onlyScalable(ng) {
			return cannotScale(ng)
		}
	}
	return nil
}

// checkShrink refuses to leave fewer datanodes than dfs.replication.
func checkShrink(c *sahara.Cluster, dnToDelete int) error {
	if dnToDelete <= 0 {
		return nil
	}
	rep, err := intConfig(c, SvcHDFS, CfgReplication)
	if err != nil {
		return err
	}
	if len(c.InstancesWithProcess(ProcDataNode))-dnToDelete < rep {
		return sahara.ClusterCannotBeScaled(c.Name, fmt.Sprintf("Spark plugin cannot shrink cluster because there would be not enough nodes for HDFS replicas (replication factor is %d)", rep))
	}
	return nil
}

func cannotScale(ng *sahara.NodeGroup) error {
	return sahara.NodeGroupCannotBeScaled(ng.Name, "Spark plugin cannot scale nodegroup with processes: "+strings.Join(ng.NodeProcesses, " "))
}

func onlyScalable(ng *sahara.NodeGroup) bool { return hadoop.OnlyProcesses(ng, scalable) }
