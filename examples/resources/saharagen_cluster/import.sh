# Import by cluster ID: the cluster record is read from the template store.
terraform import saharagen_cluster.hadoop 9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
