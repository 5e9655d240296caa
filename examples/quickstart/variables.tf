variable "cloud" {
  description = "Entry of clouds.yaml to use (null: the OS_* environment variables or OS_CLOUD)."
  type        = string
  default     = null
}

variable "image_id" {
  description = "Glance image with Debian's python3-distributed installed (see README.md)."
  type        = string
}

variable "register_image" {
  description = "Register image_id for the dask plugin here (false when it already carries the tags, e.g. on the saharagen testbed)."
  type        = bool
  default     = true
}

variable "image_user" {
  description = "Login user of the image (cloud-init's default user), recorded as _sahara_username."
  type        = string
  default     = "ubuntu"
}

variable "dask_version" {
  description = "Dask distributed version on the image: the plugin version and the image tag."
  type        = string
  default     = "2022.12.1"
}

variable "flavor_id" {
  description = "Flavor of the scheduler, and of the workers unless worker_flavor_id is set (1 vCPU and 1 GB of RAM are enough for the quickstart). The scheduler cannot be rolled onto a new flavor (the plan warns, the apply refuses): change worker_flavor_id instead, or replace the cluster."
  type        = string
}

variable "worker_flavor_id" {
  description = "Flavor of the workers, when it differs from flavor_id. Changing it later rolls the workers onto it one at a time (a new worker joins, then an old one retires and hands its data over); the scheduler stays."
  type        = string
  default     = null
}

variable "network_id" {
  description = "Neutron network the instances get their fixed IPs on."
  type        = string
}

variable "floating_ip_pool" {
  description = "External network to take floating IPs from, so the provider (and you) can reach the instances; null when the network above is reachable directly."
  type        = string
  default     = null
}

variable "cluster_name" {
  description = "Cluster name (also the prefix of the template names); instance names are <cluster>-<node group>-<index>."
  type        = string
  default     = "dask-quickstart"
}

variable "worker_count" {
  description = "Number of Dask workers. Changing it scales the cluster in place."
  type        = number
  default     = 3
}

variable "workers_to_remove" {
  description = "When worker_count goes down: names of the workers to retire first (the rest are the highest-numbered ones)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "client_cidrs" {
  description = "Networks allowed to reach the Dask scheduler (8786) and workers (9000-9009), e.g. [\"203.0.113.7/32\"] for your machine's address as the cloud sees it. The Dask scheduler has no authentication: anyone who reaches 8786 can run code on the cluster. Empty: only the cluster's own instances reach it."
  type        = list(string)
  default     = []
  nullable    = false
}
