data "saharagen_plugin" "vanilla" {
  name    = "vanilla"
  version = "2.8.2"
}

output "hdfs_processes" {
  value = data.saharagen_plugin.vanilla.node_processes["HDFS"]
}

output "required_image_tags" {
  value = data.saharagen_plugin.vanilla.required_image_tags
}

# Spark standalone on HDFS: Sahara's versions and saharagen's Spark 3 line.
# Without a version the newest (3.5.3) is described.
data "saharagen_plugin" "spark" {
  name = "spark"
}

output "spark_versions" {
  value = data.saharagen_plugin.spark.versions
}
