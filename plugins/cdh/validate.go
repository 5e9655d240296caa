package cdh

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Validate implements sahara.Validator: Sahara's validate, rule by rule
// and in its order, with its messages. Two corrections: "Require Anti
// Affinity" given as the string "false" is false (Sahara: truthy), and a
// numeric config that is no number is refused (Sahara crashes). Its quirks
// are kept: the HBase indexer rule looks for a process that does not
// exist and never fires; Impala's rule compares the sets of node groups
// running DataNodes and Impala daemons. Last, saharagen's own rule: the
// cluster must name the package repositories (checkDeliverable).
func (p *Plugin) Validate(ctx context.Context, c *sahara.Cluster) error {
	if err := checkVersion(c.PluginVersion); err != nil {
		return sahara.InvalidReference(err.Error()).At(sahara.Field{Attribute: "plugin_version"})
	}
	for _, rule := range []func(*sahara.Cluster) error{
		basicRules, oozieRules, hiveRules, hueRules, hbaseRules, flumeRules, sentryRules,
		solrRules, sqoopRules, hbaseIndexerRules, impalaRules, kmsRules, hdfsHARules, yarnHARules,
	} {
		if err := rule(c); err != nil {
			return err
		}
	}
	return checkDeliverable(c)
}

// count is Sahara's get_inst_count: the sum of the counts of the node
// groups running proc.
func count(c *sahara.Cluster, proc string) int {
	n := 0
	for _, ng := range c.NodeGroups {
		if ng.HasProcess(proc) {
			n += ng.Count
		}
	}
	return n
}

// zeroOrOne is the expectation of the single-instance processes.
const zeroOrOne = "0 or 1"

func maxOne(c *sahara.Cluster, proc string) error {
	if n := count(c, proc); n > 1 {
		return sahara.InvalidComponentCount(proc, zeroOrOne, n, "")
	}
	return nil
}

func missing(service, requiredBy string) error {
	return sahara.RequiredServiceMissing(service, requiredBy)
}

const replicationReason = "Number of datanodes must be not less than dfs_replication."

func basicRules(c *sahara.Cluster) error {
	for _, proc := range []string{ProcManager, ProcNameNode, ProcSecondaryNameNode} {
		if n := count(c, proc); n != 1 {
			return sahara.InvalidComponentCount(proc, 1, n, "")
		}
	}
	replicas, err := numberConfig(c, svcHDFS, cfgReplication)
	if err != nil {
		return err
	}
	if dn := count(c, ProcDataNode); float64(dn) < replicas {
		return sahara.InvalidComponentCount(ProcDataNode, pyNumber(replicas), dn, replicationReason)
	}
	reserved, err := numberConfig(c, roleDataNode, cfgDuReserved)
	if err != nil {
		return err
	}
	reservedGB := reserved / gibibyte
	for _, ng := range c.NodeGroups {
		if ng.VolumesSize != 0 && float64(ng.VolumesSize) < reservedGB {
			return invalidVolumeSize(ng, reservedGB)
		}
	}
	rm, hs := count(c, ProcResourceManager), count(c, ProcJobHistory)
	if rm > 1 {
		return sahara.InvalidComponentCount(ProcResourceManager, zeroOrOne, rm, "")
	}
	if hs > 1 {
		return sahara.InvalidComponentCount(ProcJobHistory, zeroOrOne, hs, "")
	}
	if rm > 0 && hs < 1 {
		return missing(ProcJobHistory, ProcResourceManager)
	}
	if rm == 0 && count(c, ProcNodeManager) > 0 {
		return missing(ProcResourceManager, ProcNodeManager)
	}
	return nil
}

// invalidVolumeSize is Sahara's InvalidVolumeSizeException; the reserved
// size is shown as Python shows a float (10.0).
func invalidVolumeSize(ng *sahara.NodeGroup, reservedGB float64) error {
	return (&sahara.SaharaError{
		Exception: "InvalidVolumeSizeException", Code: "INVALID_CONFIGURATION", Validation: true,
		Message: fmt.Sprintf("Volume size: %d GB should be greater than value of \"dfs_datanode_du_reserved\": %s GB", ng.VolumesSize, pyFloat(reservedGB)),
	}).At(sahara.Field{NodeGroup: ng.Name, Attribute: "volumes_size"})
}

// pyFloat renders f as Python's repr of a float.
func pyFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	abs := math.Abs(f)
	if abs >= 1e16 || abs < 1e-4 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Python writes at least two exponent digits, as Go does.
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// pyNumber renders a transform_to_num result: integers without a point.
func pyNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloat(f)
}

func oozieRules(c *sahara.Cluster) error {
	oo := count(c, ProcOozie)
	if oo > 1 {
		return sahara.InvalidComponentCount(ProcOozie, zeroOrOne, oo, "")
	}
	if oo == 1 {
		switch {
		case count(c, ProcDataNode) < 1:
			return missing(ProcDataNode, ProcOozie)
		case count(c, ProcNodeManager) < 1:
			return missing(ProcNodeManager, ProcOozie)
		case count(c, ProcJobHistory) != 1:
			return missing(ProcJobHistory, ProcOozie)
		}
	}
	return nil
}

func hiveRules(c *sahara.Cluster) error {
	hms, hvs, whc := count(c, ProcHiveMetastore), count(c, ProcHiveServer2), count(c, ProcWebHCat)
	switch {
	case hms > 0 && count(c, ProcResourceManager) < 1:
		return missing(ProcResourceManager, ProcHiveMetastore)
	case hms > 0 && hvs == 0:
		return missing(ProcHiveServer2, ProcHiveMetastore)
	case hvs > 0 && hms == 0:
		return missing(ProcHiveMetastore, ProcHiveServer2)
	case whc > 0 && hms == 0:
		return missing(ProcHiveMetastore, "WEBHCAT")
	}
	return nil
}

func hueRules(c *sahara.Cluster) error {
	hue := count(c, ProcHue)
	if hue > 1 {
		return sahara.InvalidComponentCount(ProcHue, zeroOrOne, hue, "")
	}
	shs := count(c, ProcSparkHistory)
	switch {
	case shs > 1:
		return sahara.InvalidComponentCount(ProcSparkHistory, zeroOrOne, shs, "")
	case shs > 0 && count(c, ProcResourceManager) == 0:
		return missing(ProcResourceManager, ProcSparkHistory)
	case hue > 0 && count(c, ProcOozie) < 1:
		return missing(ProcOozie, ProcHue)
	case hue > 0 && count(c, ProcHiveMetastore) < 1:
		return missing(ProcHiveMetastore, ProcHue)
	}
	return nil
}

func hbaseRules(c *sahara.Cluster) error {
	hbm, hbr := count(c, ProcHBaseMaster), count(c, ProcRegionServer)
	switch {
	case hbm == 1 && count(c, ProcZooKeeper) < 1:
		return missing("ZOOKEEPER", "HBASE")
	case hbm == 1 && hbr < 1:
		return sahara.InvalidComponentCount(ProcRegionServer, "at least 1", hbr, "")
	case hbm > 1:
		return sahara.InvalidComponentCount(ProcHBaseMaster, zeroOrOne, hbm, "")
	case hbm == 0 && hbr >= 1:
		return sahara.InvalidComponentCount(ProcHBaseMaster, "at least 1", hbm, "")
	}
	return nil
}

func flumeRules(c *sahara.Cluster) error {
	if count(c, ProcFlume) >= 1 && count(c, ProcDataNode) < 1 {
		return missing(ProcDataNode, ProcFlume)
	}
	return nil
}

func sentryRules(c *sahara.Cluster) error {
	snt := count(c, ProcSentry)
	switch {
	case snt > 1:
		return sahara.InvalidComponentCount(ProcSentry, zeroOrOne, snt, "")
	case snt == 1 && count(c, ProcDataNode) < 1:
		return missing(ProcDataNode, ProcSentry)
	case snt == 1 && count(c, ProcZooKeeper) < 1:
		return missing("ZOOKEEPER", ProcSentry)
	}
	return nil
}

func solrRules(c *sahara.Cluster) error {
	if count(c, ProcSolr) >= 1 {
		if count(c, ProcDataNode) < 1 {
			return missing(ProcDataNode, ProcSolr)
		}
		if count(c, ProcZooKeeper) < 1 {
			return missing("ZOOKEEPER", ProcSolr)
		}
	}
	return nil
}

func sqoopRules(c *sahara.Cluster) error {
	s2s := count(c, ProcSqoop)
	if s2s > 1 {
		return sahara.InvalidComponentCount(ProcSqoop, zeroOrOne, s2s, "")
	}
	if s2s == 1 {
		switch {
		case count(c, ProcDataNode) < 1:
			return missing(ProcDataNode, ProcSqoop)
		case count(c, ProcNodeManager) < 1:
			return missing(ProcNodeManager, ProcSqoop)
		case count(c, ProcJobHistory) != 1:
			return missing(ProcJobHistory, ProcSqoop)
		}
	}
	return nil
}

// hbaseIndexerRules is Sahara's HBase indexer rule: it counts a process
// named HBASE_INDEXER, which no node group can run (the indexer is
// KEY_VALUE_STORE_INDEXER), so it never fires; kept as Sahara has it.
func hbaseIndexerRules(c *sahara.Cluster) error {
	if count(c, "HBASE_INDEXER") >= 1 {
		switch {
		case count(c, ProcDataNode) < 1:
			return missing(ProcDataNode, "HBASE_INDEXER")
		case count(c, ProcZooKeeper) < 1:
			return missing("ZOOKEEPER", "HBASE_INDEXER")
		case count(c, ProcSolr) < 1:
			return missing(ProcSolr, "HBASE_INDEXER")
		case count(c, ProcHBaseMaster) < 1:
			return missing(ProcHBaseMaster, "HBASE_INDEXER")
		}
	}
	return nil
}

// groupsWith is the set of node groups (count 0 included) running proc.
func groupsWith(c *sahara.Cluster, proc string) []string {
	var out []string
	for _, ng := range c.NodeGroups {
		if ng.HasProcess(proc) {
			out = append(out, ng.Name)
		}
	}
	return out
}

func impalaRules(c *sahara.Cluster) error {
	ics, iss := count(c, ProcImpalaCatalog), count(c, ProcImpalaStateStore)
	if ics > 1 {
		return sahara.InvalidComponentCount(ProcImpalaCatalog, zeroOrOne, ics, "")
	}
	if iss > 1 {
		return sahara.InvalidComponentCount(ProcImpalaStateStore, zeroOrOne, iss, "")
	}
	if ics != 1 {
		return nil
	}
	if !slices.Equal(groupsWith(c, ProcDataNode), groupsWith(c, ProcImpalad)) {
		return (&sahara.SaharaError{
			Exception: "InvalidClusterTopology", Code: "INVALID_TOPOLOGY", Validation: true,
			Message: "Cluster has invalid topology: IMPALAD must be installed on every HDFS_DATANODE",
		}).At(sahara.Field{Attribute: sahara.FieldNodeGroups})
	}
	switch {
	case iss != 1:
		return missing(ProcImpalaStateStore, "IMPALA")
	case count(c, ProcImpalad) < 1:
		return missing(ProcImpalad, "IMPALA")
	case count(c, ProcDataNode) < 1:
		return missing(ProcDataNode, "IMPALA")
	case count(c, ProcHiveMetastore) < 1:
		return missing(ProcHiveMetastore, "IMPALA")
	}
	return nil
}

func kmsRules(c *sahara.Cluster) error { return maxOne(c, ProcKMS) }

// requireAntiAffinity reads "Require Anti Affinity" as a boolean (Sahara
// takes any non-empty string, "false" included, as true).
func requireAntiAffinity(c *sahara.Cluster) (bool, error) {
	v := generalValue(c, CfgRequireAntiAff)
	b, err := sahara.AsBool(v)
	if err != nil {
		return false, sahara.InvalidData(fmt.Sprintf("general config %q: %v", CfgRequireAntiAff, err)).At(sahara.Field{Attribute: "cluster_configs"})
	}
	return b, nil
}

func haError(exception, code, prefix, msg string) error {
	return (&sahara.SaharaError{Exception: exception, Code: code, Validation: true, Message: prefix + msg}).
		At(sahara.Field{Attribute: "anti_affinity"})
}

func hdfsHARules(c *sahara.Cluster) error {
	jn := count(c, ProcJournalNode)
	if jn == 0 {
		return nil
	}
	switch {
	case jn < 3:
		return sahara.InvalidComponentCount(ProcJournalNode, "not less than 3", jn, "")
	case jn%2 == 0:
		return sahara.InvalidComponentCount(ProcJournalNode, "be odd", jn, "")
	case count(c, ProcZooKeeper) < 1:
		return missing("ZOOKEEPER", "HDFS HA")
	}
	req, err := requireAntiAffinity(c)
	if err != nil || !req {
		return err
	}
	for _, proc := range []string{ProcSecondaryNameNode, ProcNameNode} {
		if !slices.Contains(c.AntiAffinity, proc) {
			return haError("NameNodeHAConfigurationError", "NAMENODE_HIGHAVAILABILITY_CONFIGURATION_FAILED",
				"NameNode High Availability: ", proc+" should be enabled in anti_affinity.")
		}
	}
	return nil
}

func yarnHARules(c *sahara.Cluster) error {
	stdb := count(c, ProcStandbyRM)
	switch {
	case stdb > 1:
		return sahara.InvalidComponentCount(ProcStandbyRM, zeroOrOne, stdb, "")
	case stdb == 0:
		return nil
	case count(c, ProcResourceManager) < 1:
		return missing(ProcResourceManager, "RM HA")
	case count(c, ProcZooKeeper) < 1:
		return missing("ZOOKEEPER", "RM HA")
	}
	req, err := requireAntiAffinity(c)
	if err != nil || !req {
		return err
	}
	for _, proc := range []string{ProcResourceManager, ProcStandbyRM} {
		if !slices.Contains(c.AntiAffinity, proc) {
			return haError("ResourceManagerHAConfigurationError", "RESOURCEMANAGER_HIGHAVAILABILITY_CONFIGURATION_FAILED",
				"ResourceManager High Availability: ", proc+" should be enabled in anti_affinity.")
		}
	}
	return nil
}

// scalable are the processes whose node groups may be resized or added
// (Sahara's _get_scalable_processes).
var scalable = []string{ProcDataNode, ProcNodeManager}

func onlyScalable(ng *sahara.NodeGroup) error {
	for _, proc := range ng.NodeProcesses {
		if !slices.Contains(scalable, proc) {
			return sahara.NodeGroupCannotBeScaled(ng.Name, "CDH plugin cannot scale nodegroup with processes: "+strings.Join(ng.NodeProcesses, " "))
		}
	}
	return nil
}

// ValidateScaling implements sahara.ScalingValidator: Sahara's rules on
// the resized groups, then on the added ones. Corrected: the message of
// a shrink below dfs_replication names the cluster (Sahara puts the whole
// cluster object, private key included, into it).
func (p *Plugin) ValidateScaling(ctx context.Context, c *sahara.Cluster, existing, additional map[string]int) error {
	if err := checkVersion(c.PluginVersion); err != nil {
		return sahara.InvalidReference(err.Error()).At(sahara.Field{Attribute: "plugin_version"})
	}
	dn, toDelete := 0, 0
	for _, ng := range c.NodeGroups {
		if _, added := additional[ng.Name]; added {
			continue
		}
		if ng.HasProcess(ProcDataNode) {
			dn += ng.Count
		}
		n, resized := existing[ng.Name]
		if !resized {
			continue
		}
		if ng.Count > n && ng.HasProcess(ProcDataNode) {
			toDelete += ng.Count - n
		}
		if err := onlyScalable(ng); err != nil {
			return err
		}
	}
	replicas, err := numberConfig(c, svcHDFS, cfgReplication)
	if err != nil {
		return err
	}
	if float64(dn-toDelete) < replicas {
		return sahara.ClusterCannotBeScaled(c.Name, replicationReason)
	}
	// Sahara looks the ResourceManager up with get_instance, which
	// refuses a cluster with more than one.
	rms := c.InstancesWithProcess(ProcResourceManager)
	if len(rms) > 1 {
		return sahara.InvalidComponentCount(ProcResourceManager, zeroOrOne, len(rms), "")
	}
	for _, ng := range c.NodeGroups {
		if _, added := additional[ng.Name]; !added {
			continue
		}
		if err := onlyScalable(ng); err != nil {
			return err
		}
		if len(rms) == 0 && ng.HasProcess(ProcNodeManager) {
			return sahara.NodeGroupCannotBeScaled(ng.Name, "CDH plugin cannot scale node group with processes which have no master-processes run in cluster")
		}
	}
	return nil
}

// checkDeliverable is saharagen's own rule, after Sahara's: Cloudera's
// public package repositories closed in 2021, so a cluster can be built
// only from images with Cloudera Manager and CDH installed plus
// repositories the user has access to. The user confirms them by naming
// the repository list files: CM5 repo list URL and CDH5 repo list URL
// (general configs), both http(s) URLs. Kerberos, which the plugin does
// not set up, is refused.
func checkDeliverable(c *sahara.Cluster) error {
	if v, ok := c.ClusterConfigs.Get(targetKerberos, cfgEnableKerberos); ok {
		if on, err := sahara.AsBool(v); err != nil || on {
			return sahara.InvalidData(fmt.Sprintf("Kerberos config %q: saharagen's cdh plugin does not set up Kerberos", cfgEnableKerberos)).
				At(sahara.Field{Attribute: "cluster_configs"})
		}
	}
	for _, name := range []string{CfgCMRepoURL, CfgCDHRepoURL} {
		v := sahara.AsString(generalValue(c, name))
		if v == "" {
			return sahara.InvalidData(fmt.Sprintf("general config %q is not set: saharagen cannot reach Cloudera's package repositories (closed to the public since 2021); "+
				"name the list file of a %s repository the instances can reach, and use images with Cloudera Manager and CDH installed", name, repoWhat(name))).
				At(sahara.Field{Attribute: "cluster_configs"})
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(v, " \t\r\n'\"\\") {
			return sahara.InvalidData(fmt.Sprintf("general config %q must be an http(s) URL without spaces or quotes", name)).
				At(sahara.Field{Attribute: "cluster_configs"})
		}
	}
	return nil
}

func repoWhat(name string) string {
	if name == CfgCMRepoURL {
		return "Cloudera Manager 5"
	}
	return "CDH 5"
}
