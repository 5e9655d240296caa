terraform {
  required_providers {
    saharagen = {
      source = "saharagen/saharagen"
    }
  }
}

# With OS_CLOUD (or OS_AUTH_URL, OS_USERNAME, …) in the environment an empty
# block is enough.
provider "saharagen" {
  cloud                    = "mycloud" # an entry of clouds.yaml
  template_store_container = "saharagen"
  record_store             = "auto" # Swift when the cloud has it, else the user's Keystone credentials
  engine                   = "heat" # each cluster is one Heat stack; "direct" (default): Nova, Neutron, Cinder calls
  parallelism              = 8

  ssh = {
    bastion_host       = "bastion.example.com:22"
    bastion_user       = "jump"
    use_agent          = true
    bastion_host_key   = file("bastion_host_key.pub")
    connection_timeout = "30s"
  }
}
