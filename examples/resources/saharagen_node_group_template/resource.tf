resource "saharagen_node_group_template" "worker" {
  name           = "worker"
  plugin_name    = "vanilla"
  plugin_version = "2.8.2"
  flavor_id      = "m1.large"
  node_processes = ["datanode", "nodemanager"]

  volumes_per_node    = 2
  volumes_size        = 100
  auto_security_group = true

  node_configs = {
    HDFS = { "dfs.datanode.du.reserved" = "1073741824" }
  }
}
