resource "saharagen_cluster_template" "hadoop" {
  name                       = "hadoop"
  plugin_name                = "vanilla"
  plugin_version             = "2.8.2"
  default_image_id           = saharagen_image.hadoop.image_id
  neutron_management_network = "5e3a4b6c-1d2e-4f50-8a9b-0c1d2e3f4a5b"
  anti_affinity              = ["datanode"]

  cluster_configs = {
    HDFS = { "dfs.replication" = "2" }
  }

  node_groups = {
    master = {
      flavor_id      = "m1.large"
      node_processes = ["namenode", "resourcemanager", "historyserver"]
      count          = 1
    }
    worker = {
      node_group_template_id = saharagen_node_group_template.worker.id
      count                  = 3
    }
  }
}
