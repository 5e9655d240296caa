# Import by Glance image ID.
terraform import saharagen_image.hadoop 0a1b2c3d-4e5f-6789-abcd-ef0123456789
