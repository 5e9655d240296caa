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

# The cluster runs Dask over TLS with mutual authentication: a client needs
# these three files (see README: terraform output -raw tls_client_key > …).
output "tls_ca_cert" {
  description = "CA certificate of the cluster (PEM): the client trusts the scheduler through it."
  value       = saharagen_cluster.dask.credentials["dask_tls_ca_cert"]
  sensitive   = true
}

output "tls_client_cert" {
  description = "Client certificate (PEM) the scheduler lets in."
  value       = saharagen_cluster.dask.credentials["dask_tls_client_cert"]
  sensitive   = true
}

output "tls_client_key" {
  description = "Private key of the client certificate (PEM)."
  value       = saharagen_cluster.dask.credentials["dask_tls_client_key"]
  sensitive   = true
}
