// Package vanilla is saharagen's plugin for Apache Hadoop clusters, the
// equivalent of Sahara's vanilla plugin (sahara-plugin-vanilla 8.0.0): the
// same versions, node processes, image tags, configs, validation messages,
// files and remote commands, so that users who move from Sahara get the
// same answers for the same cluster descriptions.
//
// # Versions
//
// 2.7.1, 2.7.5 and 2.8.2 are Sahara's and behave as in Sahara. 3.3.6 and
// 3.4.1 are saharagen's Hadoop 3 lines; they differ where Hadoop 3 differs:
//
//   - daemons start with "hdfs|yarn|mapred --daemon start <process>"
//     instead of hadoop-daemon.sh, yarn-daemon.sh and mr-jobhistory-daemon.sh;
//   - heap sizes go to HDFS_NAMENODE_OPTS, HDFS_SECONDARYNAMENODE_OPTS and
//     HDFS_DATANODE_OPTS (Hadoop 2: HADOOP_*_OPTS); the env patterns accept
//     Hadoop 3's commented "# export NAME=" lines (every such line becomes
//     the setting, so an image's env scripts must keep them);
//   - logs: HADOOP_SECURE_LOG_DIR replaces HADOOP_SECURE_DN_LOG_DIR and YARN
//     logs follow HADOOP_LOG_DIR (YARN_LOG_DIR is not set);
//   - ports: NameNode web UI 9870, SecondaryNameNode 9868, DataNode
//     9866/9864/9867 (Hadoop 2: 50070, 50090, 50010/50075/50020); the
//     cluster info's HDFS web UI uses 9870;
//   - mapred-site.xml also gets yarn.app.mapreduce.am.env, mapreduce.map.env
//     and mapreduce.reduce.env = HADOOP_MAPRED_HOME=/opt/hadoop, without
//     which Hadoop 3 jobs do not find MapReduce;
//   - node processes: no oozie, hiveserver or spark history server, and no
//     "Enable Swift" / "Enable MySQL" (Hadoop removed its Swift file system,
//     hadoop-openstack, in 3.3.5); configs list the curated properties (Hadoop 2.8's defaults
//     where Hadoop 3 kept the property) and any other property is accepted.
//
// # Configs
//
// The Hadoop property lists of Sahara's versions (names and defaults from
// Hadoop's *-default.xml as Sahara lists them) are embedded in
// resources/configs, extracted from the conformance data by
// plugins/internal/confgen. Types, scopes and priorities follow Sahara's rules; the
// curated properties carry the project's own descriptions. Values arrive as
// strings and are parsed by the config's type ("2" is 2). AcceptsConfig
// lets any other property of core, HDFS, YARN or MapReduce through to its
// site file, except the ones the plugin computes (Sahara's hidden configs).
// The plugin's computed values override the user's, as in Sahara.
//
// # Autoconfiguration
//
// RecommendConfigs is Sahara's recommend_configs (use_autoconfig, on by
// default in Sahara): YARN and MapReduce memory settings per node group from
// its flavor, and dfs.replication = min(3, datanodes) when not given. The
// engine calls it (sahara.ConfigRecommender) in Validating, before validate,
// with the flavors the Infrastructure looks up (sahara.FlavorLookup).
//
// # Intentional differences from Sahara
//
//   - Validation corrects Sahara's crashes: an integer config given as a
//     string, a new non-ZooKeeper node group on a cluster with ZooKeeper,
//     and new ZooKeeper nodes count as requested (Sahara counts 0). After
//     Sahara's rules, Validate also requires volume_mount_prefix to be a
//     plain absolute path, because it ends up in scripts.
//   - The datanode wait runs `... | grep 'Live datanodes\|Datanodes
//     available:' | ...`: Sahara escapes those quotes, so its grep reads file
//     names and the count is never found.
//   - Swift lines in core-site.xml need Cluster.Extra[ExtraSwiftAuthURL]
//     (and ExtraSwiftTenant, optional region and domain) set by the caller;
//     without them the lines are left out. Sahara took them from its request
//     context. No Keystone proxy user is created.
//   - Decommissioning without a resource manager skips the NodeManager poll
//     (Sahara crashes); a host missing from a report fails with its name
//     (Sahara: KeyError). DecommissionNodes itself also refuses to leave
//     fewer datanodes than dfs.replication (Sahara checks only in
//     validate_scaling), before any remote call.
//   - Site files are written in a fixed order (user targets sorted by name,
//     cluster before node group, then the computed ones) where Sahara
//     followed the order of the user's JSON.
//   - The hadoop user's key pair (Secrets[ExtraKeypair]) is RSA 2048 made
//     with the standard library and kept with the cluster's secrets (out of
//     the shared record: sahara.SecretsApart) instead of Barbican; the
//     private key is written with FileOptions.Sensitive and never logged.
//     OnTerminateCluster only drops it.
//   - Command lines are Sahara's byte for byte when the values in them are
//     shell-inert; a value that is not (a $, quote or backslash in a host
//     name) switches to single-quoted words built with sahara.Quote.
//   - Instances are configured in parallel (Options.Parallelism, default 16;
//     Sahara configured one after the other); per instance the calls keep
//     Sahara's order.
//   - Not provisioned yet: oozie, hiveserver and spark history server are
//     validated like Sahara but ConfigureCluster, StartCluster and
//     ScaleCluster refuse clusters that run them, before touching any
//     instance. Data locality (topology) and SSL certificates of Sahara's
//     object_store_access are not supported. zoo.cfg is the plugin's own
//     (Sahara's zoo_sample.cfg is not part of Debian's package).
//
// # How it is verified
//
// The conformance suite (go test ./plugins/... -run Conformance) compares
// every validate and validate_scaling case, plugin.json, the files and
// ordered remote calls of Sahara's sample cluster and the plugin steps of
// its recorded operations (create, scale up and down, a failing datanode
// start, a failing namenode format) through a recording remote
// (plugins/internal/conformance), and the recommended configs.
// TestPlugin_RealHosts runs the configuration over real SSH on sshd hosts;
// TestPlugin_TestbedCluster (SAHARAGEN_TESTBED=1) creates a cluster through
// the engine on the OpenStack testbed. Hadoop itself cannot be installed
// in the test environment (no distribution is reachable offline), so the
// daemon start and the decommission polling are verified through that
// recording remote against the sample's call sequence, with injected sleeps
// and clock, not against running daemons.
package vanilla
