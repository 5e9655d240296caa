package ambari

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Validate implements sahara.Validator: Sahara's validate, rule by rule in
// its order (Ambari, HDFS, YARN, Oozie, Hive, HBase, Spark, Ranger, Storm;
// the first failing rule is reported), counting node groups' counts. One
// correction: the HA switches are read as booleans, so "false" (Terraform
// hands every config value over as a string) is false, where Sahara tests
// the raw value and finds the string truthy. Then saharagen's own rule:
// the repositories the cluster installs from must be named (see doc.go).
func (p *Plugin) Validate(_ context.Context, c *sahara.Cluster) error {
	if err := checkVersion(c.PluginVersion); err != nil {
		return sahara.InvalidReference(err.Error()).At(sahara.Field{Attribute: "plugin_version"})
	}
	if err := validateLayout(c, c.ProcessCount); err != nil {
		return err
	}
	return checkDeliverable(c)
}

// ValidateScaling implements sahara.ScalingValidator as Sahara does: it
// ignores the request and validates the stored cluster, where the new node
// groups have count 0. Sahara thereby accepts a scaling that shrinks
// DataNodes to none or adds a second Ambari; the engine's own layout checks
// still apply.
func (p *Plugin) ValidateScaling(_ context.Context, c *sahara.Cluster, _, additional map[string]int) error {
	if err := checkVersion(c.PluginVersion); err != nil {
		return sahara.InvalidReference(err.Error()).At(sahara.Field{Attribute: "plugin_version"})
	}
	stored := func(proc string) int {
		n := 0
		for _, ng := range c.NodeGroups {
			if _, added := additional[ng.Name]; !added && ng.HasProcess(proc) {
				n += ng.Count
			}
		}
		return n
	}
	if err := validateLayout(c, stored); err != nil {
		return err
	}
	return checkDeliverable(c)
}

// checkDeliverable refuses, after Sahara's rules, what saharagen cannot
// deliver: a cluster whose repositories are not named, and Kerberos, whose
// KDC and principals this plugin does not deploy.
func checkDeliverable(c *sahara.Cluster) error {
	if err := checkRepositories(c); err != nil {
		return err
	}
	if v, ok := c.ClusterConfigs.Get(SvcKerberos, CfgEnableKerberos); ok {
		if on, err := sahara.AsBool(v); err != nil || on {
			return sahara.InvalidData("The Ambari plugin of saharagen does not deploy Kerberos: leave Kerberos \"Enable Kerberos Security\" unset or false").
				At(sahara.ConfigField(nil, SvcKerberos, CfgEnableKerberos))
		}
	}
	return nil
}

// validateLayout is Sahara's validation.validate over process counts.
func validateLayout(c *sahara.Cluster, count func(string) int) error {
	nnHA, err := haEnabled(c, CfgNameNodeHA)
	if err != nil {
		return err
	}
	rmHA, err := haEnabled(c, CfgRMHA)
	if err != nil {
		return err
	}
	for _, check := range []func() error{
		func() error { return checkAmbari(count) },
		func() error { return checkHDFS(count, nnHA) },
		func() error { return checkYARN(count, rmHA) },
		func() error { return atMostOne(count, ProcOozie) },
		func() error { return checkPair(count, ProcHiveServer, ProcHiveMetastore) },
		func() error { return checkHBase(count) },
		func() error { return atMostOne(count, ProcSparkHistory) },
		func() error { return checkPair(count, ProcRangerAdmin, ProcRangerUsersync) },
		func() error { return checkStorm(count) },
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// haEnabled reads a general bool config; unset is false.
func haEnabled(c *sahara.Cluster, name string) (bool, error) {
	v, ok := c.ClusterConfigs.Get(sahara.TargetGeneral, name)
	if !ok {
		return false, nil
	}
	b, err := sahara.AsBool(v)
	if err != nil {
		return false, sahara.InvalidData(fmt.Sprintf("Config %q: %v", name, err)).At(sahara.ConfigField(nil, sahara.TargetGeneral, name))
	}
	return b, nil
}

func exactly(count func(string) int, proc string, n int) error {
	if got := count(proc); got != n {
		return sahara.InvalidComponentCount(proc, n, got, "")
	}
	return nil
}

func atLeastOne(count func(string) int, proc string) error {
	if got := count(proc); got == 0 {
		return sahara.InvalidComponentCount(proc, "1 or more", got, "")
	}
	return nil
}

func atMostOne(count func(string) int, proc string) error {
	if got := count(proc); got > 1 {
		return sahara.InvalidComponentCount(proc, "0 or 1", got, "")
	}
	return nil
}

func checkAmbari(count func(string) int) error {
	if err := exactly(count, ProcAmbari, 1); err != nil {
		return err
	}
	return atLeastOne(count, ProcZooKeeper)
}

// oddAtLeast3 is Sahara's HA rule for ZooKeepers and JournalNodes.
func oddAtLeast3(count func(string) int, proc, plural string) error {
	n := count(proc)
	if n < 3 {
		return sahara.InvalidComponentCount(proc, "3 or more. Odd number", n, "At least 3 "+plural+" are required for HA")
	}
	if n%2 != 1 {
		return sahara.InvalidComponentCount(proc, "Odd number", n, "Odd number of "+plural+" are required for HA")
	}
	return nil
}

func checkHDFS(count func(string) int, ha bool) error {
	if ha {
		if err := oddAtLeast3(count, ProcZooKeeper, "ZooKeepers"); err != nil {
			return err
		}
		if err := oddAtLeast3(count, ProcJournalNode, "JournalNodes"); err != nil {
			return err
		}
		if err := exactly(count, ProcNameNode, 2); err != nil {
			return err
		}
	} else {
		if err := exactly(count, ProcNameNode, 1); err != nil {
			return err
		}
		if err := exactly(count, ProcSecondaryNameNode, 1); err != nil {
			return err
		}
	}
	return atLeastOne(count, ProcDataNode)
}

func checkYARN(count func(string) int, ha bool) error {
	rms := 1
	if ha {
		if err := oddAtLeast3(count, ProcZooKeeper, "ZooKeepers"); err != nil {
			return err
		}
		rms = 2
	}
	for _, e := range []error{
		exactly(count, ProcResourceManager, rms),
		exactly(count, ProcHistoryServer, 1),
		exactly(count, ProcTimelineServer, 1),
		atLeastOne(count, ProcNodeManager),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

// checkPair: at most one of each, and each needs the other (Hive's
// HiveServer and Metastore, Ranger's Admin and Usersync).
func checkPair(count func(string) int, a, b string) error {
	if err := atMostOne(count, a); err != nil {
		return err
	}
	if err := atMostOne(count, b); err != nil {
		return err
	}
	na, nb := count(a), count(b)
	switch {
	case na == 0 && nb == 1:
		return sahara.RequiredServiceMissing(a, b)
	case na == 1 && nb == 0:
		return sahara.RequiredServiceMissing(b, a)
	}
	return nil
}

func checkHBase(count func(string) int) error {
	if err := atMostOne(count, ProcHBaseMaster); err != nil {
		return err
	}
	hm, hr := count(ProcHBaseMaster), count(ProcHBaseRegionServer)
	switch {
	case hm == 1 && hr == 0:
		return sahara.RequiredServiceMissing(ProcHBaseRegionServer, ProcHBaseMaster)
	case hr > 0 && hm == 0:
		return sahara.RequiredServiceMissing(ProcHBaseMaster, ProcHBaseRegionServer)
	}
	return nil
}

func checkStorm(count func(string) int) error {
	for _, proc := range []string{ProcDRPCServer, ProcNimbus, ProcStormUI} {
		if err := atMostOne(count, proc); err != nil {
			return err
		}
	}
	dr, ni, su, sv := count(ProcDRPCServer), count(ProcNimbus), count(ProcStormUI), count(ProcSupervisor)
	switch {
	case dr == 0 && ni == 1:
		return sahara.RequiredServiceMissing(ProcDRPCServer, ProcNimbus)
	case dr == 1 && ni == 0:
		return sahara.RequiredServiceMissing(ProcNimbus, ProcDRPCServer)
	case su == 1 && (dr == 0 || ni == 0):
		return sahara.RequiredServiceMissing(ProcNimbus, ProcStormUI)
	case dr == 1 && sv == 0:
		return sahara.RequiredServiceMissing(ProcSupervisor, ProcDRPCServer)
	case sv > 0 && dr == 0:
		return sahara.RequiredServiceMissing(ProcDRPCServer, ProcSupervisor)
	}
	return nil
}

// checkRepositories refuses a cluster whose HDP repositories are not named:
// neither Ambari nor HDP can be installed from the public Hortonworks
// repositories any more, so the user confirms that the instances reach a
// mirror (and that the image carries the Ambari server and agent) by
// naming it. The URLs go into Ambari's stack definition as they are.
func checkRepositories(c *sahara.Cluster) error {
	for _, name := range []string{CfgHDPRepo, CfgHDPUtilsRepo} {
		v, _ := c.ClusterConfigs.Get(sahara.TargetGeneral, name)
		s := strings.TrimSpace(sahara.AsString(v))
		f := sahara.ConfigField(nil, sahara.TargetGeneral, name)
		if s == "" {
			return sahara.InvalidData(fmt.Sprintf("The Ambari plugin needs cluster config general %q: the URL of a %s repository mirror the instances can reach, "+
				"with an image that carries the Ambari server and agent (the public Hortonworks repositories are gone; see the plugin documentation)",
				name, strings.TrimSuffix(name, " repo URL"))).At(f)
		}
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file") || (u.Scheme != "file" && u.Host == "") {
			return sahara.InvalidData(fmt.Sprintf("Cluster config general %q is %q: want an http, https or file URL", name, s)).At(f)
		}
	}
	return nil
}
