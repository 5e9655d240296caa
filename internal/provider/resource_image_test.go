package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func imageConfig(user, tags string) string {
	return hcl(fmt.Sprintf(`
resource "saharagen_image" "img" {
  image_id    = %q
  username    = %q
  description = "fake plugin image"
  tags        = %s
}`, testImageID, user, tags))
}

func TestImage_RegisterUpdateUnregister(t *testing.T) {
	cloud := newTestCloud(t)
	addr := "saharagen_image.img"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: imageConfig("ubuntu", `["fake", "0.1"]`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact("fake-image")),
				},
				Check: func(*terraform.State) error {
					im := cloud.images.images[testImageID]
					if im.username != "ubuntu" || fmt.Sprint(im.tags) != "[0.1 fake]" || im.description != "fake plugin image" {
						return fmt.Errorf("registry holds %+v", im)
					}
					return nil
				},
			},
			{
				// The login user becomes /home/<username>: refused at plan.
				Config:      imageConfig("../root", `["fake", "0.1", "extra"]`),
				ExpectError: regexpMust(`Attribute username must be a user\s+name`),
			},
			{
				Config: imageConfig("debian", `["fake", "0.1", "extra"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if im := cloud.images.images[testImageID]; im.username != "debian" || len(im.tags) != 3 {
						return fmt.Errorf("registry holds %+v", im)
					}
					return nil
				},
			},
			{ResourceName: addr, ImportState: true, ImportStateVerify: true, ImportStateId: testImageID},
		},
		CheckDestroy: func(*terraform.State) error {
			if im := cloud.images.images[testImageID]; im.username != "" || len(im.tags) != 0 {
				return fmt.Errorf("image still registered after destroy: %+v", im)
			}
			return nil
		},
	})
}
