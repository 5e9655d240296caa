package sahara_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

// refInfra is a cloud with one flavor, two images (one without the fake
// plugin's tags) and two networks, found by name or ID.
func refInfra() *fake.Infra {
	infra := fake.NewInfra(
		sahara.Image{ID: imageID, Name: "fake-image", Username: "ubuntu", Tags: []string{"fake", "0.1"}},
		sahara.Image{ID: "11111111-2222-3333-4444-555555555555", Name: "untagged", Username: "ubuntu"},
	)
	infra.Flavors = map[string]fake.Flavor{"f-1": {Name: "m1.small", VCPUs: 1, RAMMB: 2048}}
	infra.OnlyKnownFlavors = true
	infra.Networks = map[string]sahara.Network{
		"n-private": {Name: "private"},
		"n-public":  {Name: "public", External: true},
	}
	return infra
}

func TestCheckReferences_NamesOrIDsAndSaharasMessages(t *testing.T) {
	group := func(mut func(*sahara.NodeGroupSpec)) sahara.ClusterSpec {
		ng := sahara.NodeGroupSpec{Name: "w", FlavorID: "m1.small", Count: 1, NodeProcesses: []string{"datanode"}, FloatingIPPool: "public"}
		mut(&ng)
		return sahara.ClusterSpec{Name: "c", PluginName: "fake", PluginVersion: "0.1", DefaultImageID: "fake-image",
			NeutronManagementNetwork: "private", NodeGroups: []sahara.NodeGroupSpec{ng}}
	}
	type want struct {
		field sahara.Field
		msg   string
	}
	cases := []struct {
		name string
		spec sahara.ClusterSpec
		want []want
	}{
		{"names resolve", group(func(*sahara.NodeGroupSpec) {}), nil},
		{"IDs resolve", group(func(ng *sahara.NodeGroupSpec) {
			ng.FlavorID, ng.ImageID, ng.FloatingIPPool = "f-1", imageID, "n-public"
		}), nil},
		{"unknown flavor", group(func(ng *sahara.NodeGroupSpec) { ng.FlavorID = "m1.huge" }),
			[]want{{sahara.Field{NodeGroup: "w", Attribute: "flavor_id"}, "Requested flavor 'm1.huge' not found"}}},
		{"unregistered image of the group", group(func(ng *sahara.NodeGroupSpec) { ng.ImageID = "nope" }),
			[]want{{sahara.Field{NodeGroup: "w", Attribute: "image_id"}, "Requested image 'nope' is not registered"}}},
		{"default image without the plugin's tags", func() sahara.ClusterSpec {
			s := group(func(*sahara.NodeGroupSpec) {})
			s.DefaultImageID = "untagged"
			s.NodeGroups = append(s.NodeGroups, s.NodeGroups[0])
			s.NodeGroups[1].Name = "v"
			return s
		}(), []want{{sahara.Field{Attribute: "default_image_id"}, "Requested image 'untagged' doesn't contain required tags for plugin fake 0.1: missing ['fake', '0.1']"}}},
		{"pool that is not external", group(func(ng *sahara.NodeGroupSpec) { ng.FloatingIPPool = "private" }),
			[]want{{sahara.Field{NodeGroup: "w", Attribute: "floating_ip_pool"}, "Floating IP pool private is not an external network"}}},
		{"missing pool and network, every mistake at once", func() sahara.ClusterSpec {
			s := group(func(ng *sahara.NodeGroupSpec) { ng.FloatingIPPool, ng.FlavorID = "ext", "m9" })
			s.NeutronManagementNetwork = "lan"
			return s
		}(), []want{
			{sahara.Field{NodeGroup: "w", Attribute: "flavor_id"}, "Requested flavor 'm9' not found"},
			{sahara.Field{NodeGroup: "w", Attribute: "floating_ip_pool"}, "Floating IP pool ext not found"},
			{sahara.Field{Attribute: "neutron_management_network"}, "Network lan not found"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eng := autoconfigEngine(t, pfake.New(), refInfra(), &syncBuffer{})
			errs := sahara.Errors(eng.CheckReferences(context.Background(), tc.spec))
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tc.want))
			}
			for i, w := range tc.want {
				if f := sahara.FieldOf(errs[i]); f != w.field {
					t.Errorf("error %d is about %+v, want %+v", i, f, w.field)
				}
				if !strings.HasPrefix(errs[i].Error(), w.msg) || !errors.Is(errs[i], sahara.ErrValidation) {
					t.Errorf("error %d = %q (validation: %v), want a validation error starting %q", i, errs[i], errors.Is(errs[i], sahara.ErrValidation), w.msg)
				}
			}
		})
	}
}

func TestCheckReferences_CloudErrorIsNotAValidationError(t *testing.T) {
	infra := refInfra()
	infra.Fail("Flavor", "", errors.New("503 Service Unavailable"))
	eng := autoconfigEngine(t, pfake.New(), infra, &syncBuffer{})
	err := eng.CheckReferences(context.Background(), demoSpec(1))
	if err == nil || errors.Is(err, sahara.ErrValidation) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v, want the cloud's error, not a validation error", err)
	}
}

func TestCheckTemplateReferences_ErrorsAreAboutTheTemplate(t *testing.T) {
	eng := autoconfigEngine(t, pfake.New(), refInfra(), &syncBuffer{})
	err := eng.CheckTemplateReferences(context.Background(), sahara.NodeGroupTemplate{PluginName: "fake", PluginVersion: "0.1",
		NodeGroupSpec: sahara.NodeGroupSpec{Name: "tmpl", FlavorID: "m1.huge", ImageID: "untagged", NodeProcesses: []string{"datanode"}}})
	errs := sahara.Errors(err)
	if len(errs) != 2 || sahara.FieldOf(errs[0]) != (sahara.Field{Attribute: "flavor_id"}) || sahara.FieldOf(errs[1]) != (sahara.Field{Attribute: "image_id"}) {
		t.Fatalf("errors = %v, want flavor_id then image_id at the template's root", errs)
	}
}
