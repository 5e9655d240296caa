package vanilla

import "fmt"

// Hadoop versions the plugin supports. The 2.x lines are Sahara's; the 3.x
// lines are saharagen's own (see the package documentation).
const (
	V271 = "2.7.1"
	V275 = "2.7.5"
	V282 = "2.8.2"
	V336 = "3.3.6"
	V341 = "3.4.1"
)

// Node processes.
const (
	ProcNameNode          = "namenode"
	ProcDataNode          = "datanode"
	ProcSecondaryNameNode = "secondarynamenode"
	ProcResourceManager   = "resourcemanager"
	ProcNodeManager       = "nodemanager"
	ProcHistoryServer     = "historyserver"
	ProcOozie             = "oozie"
	ProcHiveServer        = "hiveserver"
	ProcSparkHistory      = "spark history server"
	ProcZooKeeper         = "zookeeper"
)

// Services (config targets).
const (
	SvcHadoop    = "Hadoop"
	SvcHDFS      = "HDFS"
	SvcYARN      = "YARN"
	SvcMapReduce = "MapReduce"
	SvcJobFlow   = "JobFlow"
	SvcHive      = "Hive"
	SvcSpark     = "Spark"
	SvcZooKeeper = "ZooKeeper"
)

// envEdit is one heap-size line the plugin sets in a Hadoop env script.
type envEdit struct {
	file, target, config string
	// old is the sed pattern of the line replaced; format renders the new line.
	old, format string
}

// line holds what differs between the Hadoop 2 and Hadoop 3 lines.
type line struct {
	hadoop3 bool
	// ports per process (get_open_ports).
	ports map[string][]int
	// nnWebPort is the NameNode web UI port shown in the cluster info.
	nnWebPort int
	envEdits  []envEdit
	// start commands of the daemons, as the hadoop user.
	startNameNode, startSecondary, startDataNode, startRM, startNM, startHS string
}

var hadoop2 = &line{
	ports: map[string][]int{
		ProcNameNode:          {50070, 9000},
		ProcSecondaryNameNode: {50090},
		ProcResourceManager:   {8088, 8032},
		ProcHistoryServer:     {19888},
		ProcDataNode:          {50010, 50075, 50020},
		ProcNodeManager:       {8042},
		ProcOozie:             {11000},
		ProcHiveServer:        {9999, 10000},
		ProcSparkHistory:      {18080},
		ProcZooKeeper:         {2181, 2888, 3888},
	},
	nnWebPort: 50070,
	envEdits: []envEdit{
		{"hadoop-env.sh", SvcHDFS, "NameNode Heap Size", "export HADOOP_NAMENODE_OPTS=.*", `export HADOOP_NAMENODE_OPTS="-Xmx%dm"`},
		{"hadoop-env.sh", SvcHDFS, "SecondaryNameNode Heap Size", "export HADOOP_SECONDARYNAMENODE_OPTS=.*", `export HADOOP_SECONDARYNAMENODE_OPTS="-Xmx%dm"`},
		{"hadoop-env.sh", SvcHDFS, "DataNode Heap Size", "export HADOOP_DATANODE_OPTS=.*", `export HADOOP_DATANODE_OPTS="-Xmx%dm"`},
		{"yarn-env.sh", SvcYARN, "ResourceManager Heap Size", `\#export YARN_RESOURCEMANAGER_HEAPSIZE=.*`, "export YARN_RESOURCEMANAGER_HEAPSIZE=%d"},
		{"yarn-env.sh", SvcYARN, "NodeManager Heap Size", `\#export YARN_NODEMANAGER_HEAPSIZE=.*`, "export YARN_NODEMANAGER_HEAPSIZE=%d"},
		{"mapred-env.sh", SvcMapReduce, "JobHistoryServer Heap Size", "export HADOOP_JOB_HISTORYSERVER_HEAPSIZE=.*", "export HADOOP_JOB_HISTORYSERVER_HEAPSIZE=%d"},
	},
	startNameNode:  `sudo su - -c "hadoop-daemon.sh start namenode" hadoop`,
	startSecondary: `sudo su - -c "hadoop-daemon.sh start secondarynamenode" hadoop`,
	startDataNode:  `sudo su - -c "hadoop-daemon.sh start datanode" hadoop`,
	// The double space is Sahara's, kept so the command lines are identical.
	startRM: `sudo su - -c  "yarn-daemon.sh start resourcemanager" hadoop`,
	startNM: `sudo su - -c  "yarn-daemon.sh start nodemanager" hadoop`,
	startHS: `sudo su - -c "mr-jobhistory-daemon.sh start historyserver" hadoop`,
}

// Hadoop 3 renamed the HDFS daemon variables (HDFS_*_OPTS), moved the data
// node ports out of the ephemeral range, and replaced the *-daemon.sh scripts
// by "<command> --daemon start". Its env scripts ship the variables commented
// as "# export NAME=", so the patterns accept an optional "#" and spaces.
var hadoop3 = &line{
	hadoop3: true,
	ports: map[string][]int{
		ProcNameNode:          {9870, 9000},
		ProcSecondaryNameNode: {9868},
		ProcResourceManager:   {8088, 8032},
		ProcHistoryServer:     {19888},
		ProcDataNode:          {9866, 9864, 9867},
		ProcNodeManager:       {8042},
		ProcZooKeeper:         {2181, 2888, 3888},
	},
	nnWebPort: 9870,
	envEdits: []envEdit{
		{"hadoop-env.sh", SvcHDFS, "NameNode Heap Size", "^#* *export HDFS_NAMENODE_OPTS=.*", `export HDFS_NAMENODE_OPTS="-Xmx%dm"`},
		{"hadoop-env.sh", SvcHDFS, "SecondaryNameNode Heap Size", "^#* *export HDFS_SECONDARYNAMENODE_OPTS=.*", `export HDFS_SECONDARYNAMENODE_OPTS="-Xmx%dm"`},
		{"hadoop-env.sh", SvcHDFS, "DataNode Heap Size", "^#* *export HDFS_DATANODE_OPTS=.*", `export HDFS_DATANODE_OPTS="-Xmx%dm"`},
		{"yarn-env.sh", SvcYARN, "ResourceManager Heap Size", "^#* *export YARN_RESOURCEMANAGER_HEAPSIZE=.*", "export YARN_RESOURCEMANAGER_HEAPSIZE=%d"},
		{"yarn-env.sh", SvcYARN, "NodeManager Heap Size", "^#* *export YARN_NODEMANAGER_HEAPSIZE=.*", "export YARN_NODEMANAGER_HEAPSIZE=%d"},
		{"mapred-env.sh", SvcMapReduce, "JobHistoryServer Heap Size", "^#* *export HADOOP_JOB_HISTORYSERVER_HEAPSIZE=.*", "export HADOOP_JOB_HISTORYSERVER_HEAPSIZE=%d"},
	},
	startNameNode:  `sudo su - -c "hdfs --daemon start namenode" hadoop`,
	startSecondary: `sudo su - -c "hdfs --daemon start secondarynamenode" hadoop`,
	startDataNode:  `sudo su - -c "hdfs --daemon start datanode" hadoop`,
	startRM:        `sudo su - -c "yarn --daemon start resourcemanager" hadoop`,
	startNM:        `sudo su - -c "yarn --daemon start nodemanager" hadoop`,
	startHS:        `sudo su - -c "mapred --daemon start historyserver" hadoop`,
}

var lines = map[string]*line{V271: hadoop2, V275: hadoop2, V282: hadoop2, V336: hadoop3, V341: hadoop3}

func lineOf(version string) (*line, error) {
	l, ok := lines[version]
	if !ok {
		return nil, fmt.Errorf("vanilla plugin: unsupported Hadoop version %q (supported: %s, %s, %s, %s, %s)", version, V271, V275, V282, V336, V341)
	}
	return l, nil
}
