# Import by template ID.
terraform import saharagen_cluster_template.hadoop 2d4f6a8c-0e1f-4a3b-9c5d-7e8f9a0b1c2d
