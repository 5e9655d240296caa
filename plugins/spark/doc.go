// Package spark is saharagen's plugin for Apache Spark standalone clusters
// on HDFS, the equivalent of Sahara's spark plugin (sahara-plugin-spark
// 8.0.0): the same versions (2.3, 2.2, 2.1.0, 1.6.0), node processes
// (namenode, datanode, master, slave), configs and defaults, and validation
// messages, so that users who move from Sahara get the same answers for
// the same cluster descriptions.
//
// # Versions
//
// 1.6.0, 2.1.0, 2.2 and 2.3 are Sahara's and behave as in Sahara (images
// with CDH 5's HDFS packages). 3.5.3 is saharagen's Spark 3 line, for
// images with Spark 3.5 under "Spark home" and Hadoop 3 HDFS packaged as
// Apache Bigtop packages it (the same hadoop-hdfs-namenode and
// hadoop-hdfs-datanode services, /etc/hadoop/conf, hadoop and hdfs users).
// It differs where Spark 3 and Hadoop 3 differ:
//
//   - Spark: conf/workers instead of conf/slaves, stop-worker.sh instead of
//     stop-slave.sh, SPARK_MASTER_HOST instead of SPARK_MASTER_IP;
//   - HDFS commands through `hdfs` (namenode -format -nonInteractive,
//     dfsadmin -refreshNodes, dfsadmin -report) instead of `hadoop`;
//   - hadoop-env.sh: HDFS_NAMENODE_OPTS, HDFS_DATANODE_OPTS and
//     HADOOP_SECURE_LOG_DIR (Hadoop 2: HADOOP_*_OPTS, HADOOP_SECURE_DN_LOG_DIR);
//   - ports: NameNode web UI 9870/9871, DataNode 9866, 9864, 9865, 9867
//     (Hadoop 2: 50070/50470, 50010, 50075, 50020, 1004, 1006); the HDFS web
//     UI of the cluster info follows dfs.namenode.http-address;
//   - configs: the curated HDFS properties under Hadoop 3's names and
//     defaults (dfs.blocksize, dfs.permissions.enabled,
//     dfs.namenode.replication.min, dfs.datanode.max.transfer.threads,
//     dfs.namenode.http-address, …) instead of Sahara's full Hadoop 1 list;
//     no "Enable Swift" and no Swift lines in core-site.xml (Hadoop 3.3.5
//     removed its Swift file system), so the executor classpath is empty by
//     default. Node processes, validation and the order of the calls are
//     those of Sahara's versions.
//
// # Configs
//
// The HDFS property list (core-default.xml, hdfs-default.xml and the Swift
// defaults of Sahara's plugin, hidden names removed; the same for every
// version) is embedded in resources/configs, extracted from the
// conformance data by plugins/internal/confgen. Types, scopes and
// priorities follow Sahara's rules; the curated properties carry the
// project's own descriptions. Values arrive as strings and are parsed by
// the config's type ("2" is 2).
//
// # Autoconfiguration
//
// RecommendConfigs is Sahara's recommend_configs for spark (use_autoconfig,
// on by default): dfs.replication = min(3, datanodes) when the user did not
// set it. The engine calls it in Validating, before Validate.
//
// # Provisioning
//
// ConfigureCluster, StartCluster, ScaleCluster and DecommissionNodes make
// Sahara's remote calls in Sahara's order (per instance; instances run in
// parallel, Options.Parallelism) and write Sahara's files: core-site.xml
// and hdfs-site.xml under /etc/hadoop/conf, spark-env.sh, slaves and
// spark-defaults.conf under "Spark home"/conf, the HDFS setup script, the
// datanode include/exclude files and the master's job cleanup script and
// cron entry. Images are Sahara's Spark images (CDH HDFS packages started
// with "service hadoop-hdfs-*", Spark under /opt/spark, a "hadoop" and an
// "hdfs" user); the instances' management key pair becomes the login
// user's SSH key so that start-all.sh reaches the workers. The cluster
// info gets the HDFS web UI (port of dfs.http.address), the NameNode URI
// and the Spark master's web UI; OpenPorts opens Sahara's ports, the Spark
// ones from the cluster's configs.
//
// # Intentional differences from Sahara
//
//   - Decommission retires the HDFS data first: exclude file,
//     refreshNodes, the wait until HDFS reports the removed datanodes
//     decommissioned, then the include files without them; only then are
//     the removed Spark workers stopped (stop-slave.sh on each of them) and
//     the survivors given the new slaves file. Sahara first ran
//     stop-all.sh, rewrote the slaves files and ran start-all.sh, killing
//     every running Spark application, and only then retired the data.
//   - The decommission wait matches a report's datanode to a removed
//     instance by exact address (Sahara matched the Name by prefix, so
//     removing 10.0.0.1 while 10.0.0.10 served waited until the 24 h
//     "Decommissioning Timeout"). The report is parsed in Hadoop 2's layout
//     too ("Live datanodes (n):"), where Sahara's parser, which starts
//     after Hadoop 1's "Datanodes available:" line, found no datanode and
//     did not wait at all.
//   - The datanode wait at start runs `... | grep 'Live datanodes\|Datanodes
//     available:' | ...`: Sahara escapes those quotes, so its grep reads
//     file names and the count is never found (as in the vanilla plugin).
//   - Heap size lines of the setup script come in a fixed order (NameNode,
//     DataNode) where Sahara followed the user's JSON; the cleanup script
//     gets the cleanup options as parsed integers.
//   - Swift lines in core-site.xml need Cluster.Extra[ExtraSwiftAuthURL]
//     (and ExtraSwiftTenant) set by the caller, as in the vanilla plugin.
//   - Kept from Sahara although odd: scaling stops and restarts the whole
//     Spark cluster (stop-all.sh ... start-all.sh); a disabled cleanup job
//     runs "sudo rm -f /etc/crond.d/spark-cleanup" (Sahara's typo, so its
//     cron entry stays and calls the removed script); data locality is off.
//   - Validation reads an integer config given as a string as the integer
//     (Sahara crashes comparing int and str).
//   - After Sahara's rules, Validate refuses Spark option values the plugin
//     cannot deliver: spark-env.sh is sourced by bash, so ports must be
//     port numbers ("random" for the worker port), worker cores and
//     instances positive numbers or "all", worker memory a size such as 2g
//     or "all", Spark home a plain absolute path and the executor classpath
//     plain absolute paths separated by ":"; volume mount prefixes must be
//     plain absolute paths.
//
// # How it is verified
//
// The conformance suite (go test ./plugins/spark -run Conformance, with
// SAHARAGEN_CONFORMANCE_DIR) compares every validate and validate_scaling
// case and plugin.json, the files and ordered remote calls of Sahara's
// sample cluster (configure, start, scale, and decommission in its
// corrected order: the sample's calls rearranged as described above), the
// sample's configuration variant (Spark ports, the HDFS web UI port, a
// disabled cleanup job) and its prefix-match check, through the recording
// remote of plugins/internal/conformance. TestPlugin_RealHosts configures,
// starts, scales and decommissions a cluster over real SSH on sshd hosts
// (internal/sshtest) and checks files, contents, owners, modes and the
// order of the daemon commands across the hosts. Neither HDFS nor Spark
// can be installed in the test environment, so there the service, hadoop,
// hdfs and Spark sbin commands are stubs that log their calls and answer
// the reports; the polls are also checked against Sahara's call sequences
// with injected sleeps and clock. TestPlugin_TestbedCluster
// (SAHARAGEN_TESTBED=1) creates a cluster through the engine on the
// OpenStack testbed, to Active, with the same stubs installed on the
// testbed's image (it has no Spark image), and checks the recorded steps,
// statuses, daemon commands, files and cluster info.
package spark
