package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/heat"
	"github.com/saharagen/terraform-provider-saharagen/sahara/openstack"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// The backend on a real cloud: the OpenStack adapter and the SSH remote.
// This file and plugins.go are the only ones that name concrete library
// packages.

// CloudConfig is the cloud adapter's configuration; Settings carries it as
// is, so each auth or transport option is declared once, in the adapter.
type CloudConfig = openstack.Config

// openStackConnector builds the Backend on OpenStack: the cloud adapter is
// the direct engine's Infrastructure (and the image registry when it offers
// one), the Heat engine is over the same adapter, its object storage the
// template store.
func openStackConnector(ctx context.Context, s Settings) (*Backend, error) {
	cloud, err := openstack.New(ctx, s.OpenStack, openstack.WithParallelism(s.Parallelism), openstack.WithLogger(s.Logger),
		openstack.WithDeleteTimeout(s.DeleteTimeout))
	if err != nil {
		return nil, fmt.Errorf("authenticating to OpenStack: %w", err)
	}
	remotes, err := sshConnector(s)
	if err != nil {
		return nil, err
	}
	b := &Backend{Infra: cloud, Remotes: remotes,
		Engines: map[string]sahara.Infrastructure{engineHeat: heat.New(cloud, heat.WithLogger(s.Logger))}}
	if err := openRecordStore(ctx, cloud, s, b); err != nil {
		return nil, err
	}
	if reg, ok := any(cloud).(ImageRegistry); ok {
		b.Images = reg
	}
	return b, nil
}

// openRecordStore sets b.Store as record_store says: object storage, or the
// user's Keystone credentials on a cloud without it.
func openRecordStore(ctx context.Context, cloud *openstack.Cloud, s Settings, b *Backend) error {
	if s.RecordStore != recordStoreKeystone {
		st, err := cloud.Store(ctx, s.TemplateStoreContainer)
		if err == nil {
			b.Store, b.StoreName = st, fmt.Sprintf("the object-store container %q (template_store_container)", s.TemplateStoreContainer)
			return nil
		}
		if s.RecordStore == recordStoreObject || !errors.Is(err, openstack.ErrNoObjectStorage) {
			return fmt.Errorf("opening the template store %q: %w", s.TemplateStoreContainer, err)
		}
		s.Logger.Info("The cloud has no object storage: templates and cluster records are kept in the user's Keystone credentials",
			"namespace", s.TemplateStoreContainer)
	}
	st, err := cloud.CredentialStore(ctx, s.TemplateStoreContainer)
	if err != nil {
		return fmt.Errorf("opening the record store in Keystone credentials: %w", err)
	}
	b.Store, b.StoreName = st, fmt.Sprintf("the Keystone credentials of type %s of this user, namespace %q (template_store_container)",
		openstack.CredentialType, s.TemplateStoreContainer)
	return nil
}

// sshConnector is the SSH remote of the ssh block: host keys of instances are
// pinned at first contact; the bastion's must be given or in known_hosts.
func sshConnector(s Settings) (*sshremote.Connector, error) {
	c := &sshremote.Connector{Logger: s.Logger, UseAgent: s.UseAgent, ConnectTimeout: s.SSHConnectionTimeout}
	if s.BastionHost != "" {
		host, port := s.BastionHost, 0
		if h, p, err := net.SplitHostPort(s.BastionHost); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("ssh.bastion_host %q: the port must be a number", s.BastionHost)
			}
			host, port = h, n
		}
		c.Bastion = &sshremote.BastionConfig{Host: host, Port: port, User: s.BastionUser, PrivateKey: s.BastionPrivateKey,
			UseAgent: s.UseAgent, HostKey: s.BastionHostKey}
	}
	return c, nil
}
