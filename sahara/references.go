package sahara

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// References are the cloud objects a description names: flavors, images and
// networks, each by name or ID as OpenStack's clients accept them. They are
// checked before anything is created (at plan, and again in Validating) with
// Sahara's messages, each error on the attribute that names the object.

// Network is what the engine knows of a Neutron network.
type Network struct {
	ID, Name string
	// External is router:external: floating IPs come from such networks.
	External bool
}

// NetworkLookup is an optional Infrastructure capability: finding a network
// by name or ID. A missing network is ErrNotFound; a name that several
// networks share is an error that says to give the ID.
type NetworkLookup interface {
	Network(ctx context.Context, ref string) (Network, error)
}

// CheckReferences checks that the flavors, images (registered, with the
// plugin's tags and a safe login user) and networks a cluster names exist.
// Validation errors are joined, each on its Field; an error reaching the
// cloud ends the check and is returned as it is. Checks the Infrastructure
// cannot make (no FlavorLookup or NetworkLookup) are left to the cloud.
func (e *Engine) CheckReferences(ctx context.Context, spec ClusterSpec) error {
	return e.checkReferences(ctx, spec, &lookups{})
}

func (e *Engine) checkReferences(ctx context.Context, spec ClusterSpec, memo *lookups) error {
	p, err := e.opts.Plugins.PluginVersion(spec.PluginName, spec.PluginVersion)
	if err != nil {
		return err
	}
	r := refChecker{infra: e.opts.Infra, memo: memo, plugin: p, version: spec.PluginVersion, seen: map[string]bool{}}
	for _, ng := range spec.NodeGroups {
		if err := r.group(ctx, ng); err != nil {
			return err
		}
	}
	if err := r.image(ctx, spec.DefaultImageID, Field{Attribute: "default_image_id"}); err != nil {
		return err
	}
	if err := r.network(ctx, spec.NeutronManagementNetwork, Field{Attribute: "neutron_management_network"}, false); err != nil {
		return err
	}
	return errors.Join(r.errs...)
}

// CheckTemplateReferences is CheckReferences for a node group template: its
// errors are about the template's own attributes.
func (e *Engine) CheckTemplateReferences(ctx context.Context, t NodeGroupTemplate) error {
	spec := t.NodeGroupSpec
	spec.Name = ""
	return e.CheckReferences(ctx, ClusterSpec{PluginName: t.PluginName, PluginVersion: t.PluginVersion, NodeGroups: []NodeGroupSpec{spec}})
}

// lookups remembers what one operation read of the cloud, so the reference
// check, autoconfig and the image check read each flavor and image once.
type lookups struct {
	flavors map[string]Flavor
	images  map[string]Image
}

func (m *lookups) flavor(ctx context.Context, fl FlavorLookup, ref string) (Flavor, error) {
	return remember(&m.flavors, ref, func() (Flavor, error) { return fl.Flavor(ctx, ref) })
}

func (m *lookups) image(ctx context.Context, infra Infrastructure, ref string) (Image, error) {
	return remember(&m.images, ref, func() (Image, error) { return infra.GetImage(ctx, ref) })
}

// remember answers from *seen, else reads and keeps a successful answer.
func remember[T any](seen *map[string]T, ref string, read func() (T, error)) (T, error) {
	if v, ok := (*seen)[ref]; ok {
		return v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	if *seen == nil {
		*seen = map[string]T{}
	}
	(*seen)[ref] = v
	return v, nil
}

type refChecker struct {
	infra   Infrastructure
	memo    *lookups
	plugin  Plugin
	version string
	// seen reports an image's problem once per attribute.
	seen map[string]bool
	errs []error
}

func (r *refChecker) group(ctx context.Context, ng NodeGroupSpec) error {
	if fl, ok := r.infra.(FlavorLookup); ok && ng.FlavorID != "" {
		_, err := r.memo.flavor(ctx, fl, ng.FlavorID)
		switch {
		case errors.Is(err, ErrNotFound):
			r.errs = append(r.errs, NotFound(fmt.Sprintf("Requested flavor '%s' not found", ng.FlavorID)).At(Field{ng.Name, "flavor_id"}))
		case err != nil:
			return fmt.Errorf("reading flavor %q of node group %s: %w", ng.FlavorID, ng.Name, err)
		}
	}
	if ng.ImageID != "" {
		if err := r.image(ctx, ng.ImageID, Field{ng.Name, "image_id"}); err != nil {
			return err
		}
	}
	return r.network(ctx, ng.FloatingIPPool, Field{ng.Name, "floating_ip_pool"}, true)
}

func (r *refChecker) image(ctx context.Context, ref string, f Field) error {
	if ref == "" || r.seen[f.NodeGroup+"\x00"+ref] {
		return nil
	}
	r.seen[f.NodeGroup+"\x00"+ref] = true
	im, err := r.memo.image(ctx, r.infra, ref)
	switch {
	case errors.Is(err, ErrNotFound):
		r.errs = append(r.errs, InvalidReference(fmt.Sprintf("Requested image '%s' is not registered", ref)).At(f))
	case err != nil:
		return fmt.Errorf("reading image %q: %w", ref, err)
	default:
		if err := imageProblem(im, ref, r.plugin, r.version); err != nil {
			r.errs = append(r.errs, err.At(f))
		}
	}
	return nil
}

func (r *refChecker) network(ctx context.Context, ref string, f Field, floating bool) error {
	nl, ok := r.infra.(NetworkLookup)
	if !ok || ref == "" {
		return nil
	}
	n, err := nl.Network(ctx, ref)
	switch {
	case errors.Is(err, ErrNotFound) && floating:
		r.errs = append(r.errs, NotFound(fmt.Sprintf("Floating IP pool %s not found", ref)).At(f))
	case errors.Is(err, ErrNotFound):
		r.errs = append(r.errs, NotFound(fmt.Sprintf("Network %s not found", ref)).At(f))
	case err != nil:
		return fmt.Errorf("reading network %q: %w", ref, err)
	case floating && !n.External:
		r.errs = append(r.errs, InvalidReference(fmt.Sprintf("Floating IP pool %s is not an external network: floating IPs come from a network with router:external set", ref)).At(f))
	}
	return nil
}

// imageProblem is what keeps a registered image from serving the plugin:
// missing tags, or no usable login user. ref is the name or ID the user gave.
func imageProblem(im Image, ref string, p Plugin, version string) *SaharaError {
	required := RequiredImageTags(p, version)
	var missing []string
	for _, t := range required {
		if !slices.Contains(im.Tags, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return InvalidReference(fmt.Sprintf("Requested image '%s' doesn't contain required tags for plugin %s %s: missing %s (tag the image with %s)",
			ref, p.Name(), version, pyList(missing), strings.Join(required, ", ")))
	}
	if im.Username == "" {
		return InvalidReference(fmt.Sprintf("Requested image '%s' has no login user: register it with the _sahara_username property", ref))
	}
	// Whoever registered the image chose it; it becomes a path and a
	// command argument on every instance.
	if err := CheckLoginName(im.Username); err != nil {
		return InvalidReference(fmt.Sprintf("Requested image '%s': %v (its _sahara_username property)", ref, err))
	}
	return nil
}
