output "cluster_id" {
  value = saharagen_cluster.dask.id
}

output "status" {
  value = saharagen_cluster.dask.status
}

output "scheduler_address" {
  description = "Dask scheduler for clients outside the cluster (floating IP when there is one)."
  value       = saharagen_cluster.dask.info["Dask"]["Scheduler"]
}

output "scheduler_internal_address" {
  description = "Dask scheduler on the cluster network."
  value       = saharagen_cluster.dask.info["Dask"]["Scheduler (internal)"]
}

output "workers" {
  description = "Names of the worker instances (they are also the Dask worker names)."
  value       = [for i in saharagen_cluster.dask.node_groups["worker"].instances : i.name]
}
