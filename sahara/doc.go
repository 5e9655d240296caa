// Package sahara is saharagen's provisioning library: the object model of
// OpenStack Sahara (clusters, node groups, instances, templates, configs),
// the plugin SPI, the provisioning engine that drives Sahara's cluster status
// machine, and the two interfaces the engine drives — Infrastructure (the
// cloud) and Remote (commands and files on instances).
//
// The package has no dependency on Terraform or on a particular cloud SDK:
// the OpenStack adapter lives in sahara/openstack, the SSH remote in
// sahara/sshremote, plugins in plugins/<name>. Any Go program can import it.
//
// # Statuses
//
// Cluster statuses are Sahara's exact strings (see ClusterStatus). The engine
// writes them as labels; its decisions read facts (instance IDs, addresses,
// per-instance progress), never the status.
//
// # Differences from Sahara Zed
//
// Sahara's documented cluster lifecycle is the specification where Sahara
// Zed's code differs from it; the Engine's documentation in engine.go lists
// each difference.
package sahara
