resource "saharagen_cluster" "hadoop" {
  name                = "analytics"
  plugin_name         = "vanilla"
  plugin_version      = "2.8.2"
  cluster_template_id = saharagen_cluster_template.hadoop.id
  user_keypair_id     = "ops"

  # Node groups given here replace the template's list. Changing a count
  # scales the cluster in place; the plan lists the instances to be removed.
  # Changing a group's servers (flavor, image, volumes, configs, here or in
  # its node group template) rolls that group in place, update_policy paces it.
  node_groups = {
    master = {
      flavor_id           = "m1.large"
      node_processes      = ["namenode", "resourcemanager", "historyserver"]
      count               = 1
      auto_security_group = true
      # Only the office reaches the web UIs; the cluster's instances reach
      # each other anyway, and nobody else reaches anything but SSH.
      auto_security_group_cidrs = ["198.51.100.0/24"]
    }
    worker = {
      node_group_template_id = saharagen_node_group_template.worker.id
      count                  = 4
      # Remove this one first on the next scale-down.
      instances_to_remove = ["analytics-worker-0"]
      # Two new workers at a time, each batch adding before it retires.
      update_policy = { max_surge = 2 }
    }
  }

  timeouts {
    create = "90m"
    update = "60m"
    delete = "30m"
  }
}

output "hdfs_web_ui" {
  value = saharagen_cluster.hadoop.info["HDFS"]["Web UI"]
}
