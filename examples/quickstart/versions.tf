terraform {
  required_version = ">= 1.5"
  required_providers {
    saharagen = {
      source = "saharagen/saharagen"
    }
  }
}

# Credentials come from clouds.yaml (OS_CLOUD / var.cloud) or the OS_*
# environment variables, exactly as for terraform-provider-openstack.
provider "saharagen" {
  cloud = var.cloud
}
