data "saharagen_cluster_health" "dask" {
  cluster_id             = saharagen_cluster.dask.id
  management_private_key = saharagen_cluster.dask.management_private_key
}

# Every plan and apply reports a cluster that is not all GREEN.
check "dask_healthy" {
  assert {
    condition     = data.saharagen_cluster_health.dask.status == "GREEN"
    error_message = "Cluster ${saharagen_cluster.dask.name} is ${data.saharagen_cluster_health.dask.status}: ${join("; ", [for c in data.saharagen_cluster_health.dask.checks : "${c.name}: ${c.description}" if c.status != "GREEN"])}"
  }
}
