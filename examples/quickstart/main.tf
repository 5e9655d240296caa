# A Dask cluster the way Sahara builds clusters: an image registered for the
# plugin, node group templates, a cluster template, then the cluster.

# Tags the image for the dask plugin: _sahara_username, _sahara_tag_dask and
# _sahara_tag_<version> (like `openstack dataprocessing image register` and
# `image tags add`). Destroying it removes those properties again.
resource "saharagen_image" "dask" {
  count    = var.register_image ? 1 : 0
  image_id = var.image_id
  username = var.image_user
  tags     = ["dask", var.dask_version]
}

locals {
  image_id     = var.register_image ? saharagen_image.dask[0].image_id : var.image_id
  client_cidrs = length(var.client_cidrs) > 0 ? var.client_cidrs : null
}

resource "saharagen_node_group_template" "scheduler" {
  name                = "${var.cluster_name}-scheduler"
  plugin_name         = "dask"
  plugin_version      = var.dask_version
  flavor_id           = var.flavor_id
  image_id            = local.image_id
  node_processes      = ["scheduler"]
  floating_ip_pool    = var.floating_ip_pool
  auto_security_group = true
}

resource "saharagen_node_group_template" "worker" {
  name                = "${var.cluster_name}-worker"
  plugin_name         = "dask"
  plugin_version      = var.dask_version
  flavor_id           = coalesce(var.worker_flavor_id, var.flavor_id)
  image_id            = local.image_id
  node_processes      = ["worker"]
  floating_ip_pool    = var.floating_ip_pool
  auto_security_group = true
  node_configs = {
    Dask = {
      "Worker threads"      = "2"
      "Worker memory limit" = "512MiB"
    }
  }
}

resource "saharagen_cluster_template" "dask" {
  name                       = var.cluster_name
  plugin_name                = "dask"
  plugin_version             = var.dask_version
  neutron_management_network = var.network_id
  node_groups = {
    scheduler = {
      node_group_template_id = saharagen_node_group_template.scheduler.id
      count                  = 1
    }
    worker = {
      node_group_template_id = saharagen_node_group_template.worker.id
      count                  = 3
    }
  }
  cluster_configs = {
    Dask = {
      "Workers retirement timeout" = "300"
    }
  }
}

resource "saharagen_cluster" "dask" {
  name                = var.cluster_name
  plugin_name         = "dask"
  plugin_version      = var.dask_version
  cluster_template_id = saharagen_cluster_template.dask.id
  default_image_id    = local.image_id

  # The template's layout, with the worker count under your control:
  # changing worker_count scales in place (retiring workers hand their data
  # to the others before their servers are deleted).
  node_groups = {
    scheduler = {
      node_group_template_id = saharagen_node_group_template.scheduler.id
      count                  = 1
      # Only these networks reach the scheduler's port (8786) and, below,
      # the workers' (a client may fetch results from them directly); the
      # cluster's instances reach each other anyway. No client_cidrs:
      # nothing outside the cluster does.
      auto_security_group_cidrs = local.client_cidrs
    }
    worker = {
      node_group_template_id    = saharagen_node_group_template.worker.id
      count                     = var.worker_count
      instances_to_remove       = var.workers_to_remove
      auto_security_group_cidrs = local.client_cidrs
    }
  }

  # A small cluster takes minutes; fail with the engine's reason rather than
  # wait for the hour-long defaults if a server never comes up.
  timeouts {
    create = "20m"
    update = "20m"
    delete = "20m"
  }
}
