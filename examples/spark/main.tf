# A Spark cluster the way Sahara's spark plugin builds it: Spark standalone
# (master and workers, "slave" in Sahara's words) on HDFS (namenode and
# datanodes), from node group templates and a cluster template. The image
# must be one of Sahara's Spark images (CDH HDFS packages, Spark under
# /opt/spark) tagged for the plugin: saharagen cannot install Spark itself.
# For saharagen's Spark 3 line use plugin_version "3.5.3" with an image of
# Spark 3.5 and Hadoop 3 HDFS packaged as Apache Bigtop packages it.

terraform {
  required_version = ">= 1.5"
  required_providers {
    saharagen = {
      source = "saharagen/saharagen"
    }
  }
}

provider "saharagen" {
  cloud = var.cloud
}

variable "cloud" {
  description = "Name of the cloud in clouds.yaml (or use the OS_* environment variables)."
  type        = string
  default     = null
}

variable "image_id" {
  description = "A Sahara Spark image (e.g. built with sahara-image-pack for spark 2.3)."
  type        = string
}

variable "image_user" {
  description = "The login user of the image."
  type        = string
  default     = "ubuntu"
}

variable "network_id" {
  description = "The Neutron network the instances are on."
  type        = string
}

variable "flavor_id" {
  type    = string
  default = "m1.large"
}

variable "worker_count" {
  description = "Spark workers (each also an HDFS datanode); at least dfs.replication."
  type        = number
  default     = 3
}

resource "saharagen_image" "spark" {
  image_id = var.image_id
  username = var.image_user
  tags     = ["spark", "2.3"]
}

resource "saharagen_node_group_template" "master" {
  name                = "spark-master"
  plugin_name         = "spark"
  plugin_version      = "2.3"
  flavor_id           = var.flavor_id
  image_id            = saharagen_image.spark.image_id
  node_processes      = ["namenode", "master"]
  auto_security_group = true
  node_configs = {
    HDFS = { "Name Node Heap Size" = "2048" }
  }
}

resource "saharagen_node_group_template" "worker" {
  name                = "spark-worker"
  plugin_name         = "spark"
  plugin_version      = "2.3"
  flavor_id           = var.flavor_id
  image_id            = saharagen_image.spark.image_id
  node_processes      = ["datanode", "slave"]
  auto_security_group = true
  volumes_per_node    = 2
  volumes_size        = 10
}

resource "saharagen_cluster_template" "spark" {
  name                       = "spark"
  plugin_name                = "spark"
  plugin_version             = "2.3"
  neutron_management_network = var.network_id
  node_groups = {
    master = {
      node_group_template_id = saharagen_node_group_template.master.id
      count                  = 1
    }
    worker = {
      node_group_template_id = saharagen_node_group_template.worker.id
      count                  = 3
    }
  }
  cluster_configs = {
    HDFS  = { "dfs.replication" = "2" }
    Spark = { "Worker cores" = "2", "Worker memory" = "4g" }
  }
}

resource "saharagen_cluster" "spark" {
  name                = "spark"
  plugin_name         = "spark"
  plugin_version      = "2.3"
  cluster_template_id = saharagen_cluster_template.spark.id
  default_image_id    = saharagen_image.spark.image_id

  # Changing worker_count scales in place. Removed workers' HDFS data is
  # retired first, then only their Spark workers stop; running applications
  # keep their other executors.
  node_groups = {
    master = {
      node_group_template_id = saharagen_node_group_template.master.id
      count                  = 1
    }
    worker = {
      node_group_template_id = saharagen_node_group_template.worker.id
      count                  = var.worker_count
    }
  }
}

output "spark_web_ui" {
  value = saharagen_cluster.spark.info["Spark"]["Web UI"]
}

output "hdfs_namenode" {
  value = saharagen_cluster.spark.info["HDFS"]["NameNode"]
}
