package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// The tests drive the CLI that TF_ACC_TERRAFORM_PATH names: Terraform or
// OpenTofu (make testacc runs a part of the suite under each). A provider
// source without a host ("saharagen/saharagen" in a configuration, or the
// implied source of a bare provider block) means the CLI's own registry:
// registry.terraform.io for Terraform, registry.opentofu.org for OpenTofu.
// The addresses the tests reattach to or override are that registry's.

// TestMain sets terraform-plugin-testing's provider host to the CLI's
// registry (unless TF_ACC_PROVIDER_HOST is set); the reattached provider is
// not found under another host's address.
func TestMain(m *testing.M) {
	if c, err := testCLI(); err == nil && os.Getenv(resource.EnvTfAccProviderHost) == "" {
		if err := os.Setenv(resource.EnvTfAccProviderHost, c.registry); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// tfCLI is the CLI the tests run and the registry host it defaults to.
type tfCLI struct {
	path, registry string
}

// testCLI finds the CLI as terraform-plugin-testing does
// (TF_ACC_TERRAFORM_PATH, else terraform on PATH) and asks it what it is.
var testCLI = sync.OnceValues(func() (tfCLI, error) {
	path := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if path == "" {
		var err error
		if path, err = exec.LookPath("terraform"); err != nil {
			return tfCLI{}, fmt.Errorf("no Terraform CLI: set TF_ACC_TERRAFORM_PATH (make testacc does)")
		}
	}
	cmd := exec.Command(path, "version")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		return tfCLI{}, fmt.Errorf("%s version: %w", path, err)
	}
	registry := "registry.terraform.io"
	if bytes.HasPrefix(out, []byte("OpenTofu ")) {
		registry = "registry.opentofu.org"
	}
	return tfCLI{path: path, registry: registry}, nil
})
