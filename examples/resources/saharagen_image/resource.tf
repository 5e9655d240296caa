# Make an existing Glance image usable by the vanilla plugin 2.8.2.
resource "saharagen_image" "hadoop" {
  image_id    = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
  username    = "ubuntu"
  description = "Ubuntu 22.04 with Hadoop 2.8.2"
  tags        = ["vanilla", "2.8.2"]
}
