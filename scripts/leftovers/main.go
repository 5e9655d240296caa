// Command leftovers prints the OpenStack objects left in the saharagen
// testbed (internal/testbed, `make testbed-up`) by one cluster — servers,
// ports, floating IPs, volumes, security groups, server groups, keypairs and
// stored records tagged or named with its ID, in the test project and in the
// project without object storage — and exits 1 when there are any.
// `make demo` runs it after `terraform destroy`.
//
//	go run ./scripts/leftovers -cluster <cluster id>
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
)

func main() {
	cluster := flag.String("cluster", "", "cluster ID whose objects to count (required)")
	flag.Parse()
	if *cluster == "" {
		fmt.Fprintln(os.Stderr, "leftovers: -cluster <id> is required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := testbed.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "leftovers:", err)
		os.Exit(2)
	}
	// the cluster may live in either test project
	projects := []*testbed.Env{env}
	if ns := env.NoStore(); ns != nil {
		projects = append(projects, ns)
	}
	mine, all := testbed.Counts{}, map[string]testbed.Counts{}
	for _, p := range projects {
		c, err := p.Leftovers(ctx, *cluster)
		if err != nil {
			fmt.Fprintf(os.Stderr, "leftovers: counting the cluster's objects in %s: %v\n", p.ProjectName, err)
			os.Exit(2)
		}
		for k, n := range c {
			mine[k] += n
		}
		if all[p.ProjectName], err = p.Leftovers(ctx, ""); err != nil {
			fmt.Fprintf(os.Stderr, "leftovers: counting the objects of project %s: %v\n", p.ProjectName, err)
			os.Exit(2)
		}
	}
	fmt.Printf("objects of cluster %s left in the cloud: %d (%s)\n", *cluster, mine.Total(), mine)
	for _, p := range projects {
		fmt.Printf("objects in project %s beyond the testbed's own (any user of the testbed): %d (%s)\n", p.ProjectName, all[p.ProjectName].Total(), all[p.ProjectName])
	}
	if mine.Total() > 0 {
		os.Exit(1)
	}
}
