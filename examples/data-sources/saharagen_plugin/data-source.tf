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
