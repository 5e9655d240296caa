package openstack

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Sahara's image properties.
const (
	imageUsernameProp  = "_sahara_username"
	imageTagPropPrefix = "_sahara_tag_"
)

// GetImage reads the image's login user and Sahara tags from Glance.
func (c *Cloud) GetImage(ctx context.Context, imageID string) (sahara.Image, error) {
	if imageID == "" {
		return sahara.Image{}, fmt.Errorf("no image given")
	}
	ic, err := c.client(ctx, svcImage)
	if err != nil {
		return sahara.Image{}, err
	}
	img, err := images.Get(ctx, ic, imageID).Extract()
	if err != nil {
		if isNotFound(err) {
			return sahara.Image{}, sahara.InvalidReference(fmt.Sprintf("Requested image '%s' is not registered", imageID))
		}
		return sahara.Image{}, fmt.Errorf("reading image %s: %w", imageID, err)
	}
	return imageFromProperties(img.ID, img.Name, img.Properties), nil
}

func imageFromProperties(id, name string, props map[string]any) sahara.Image {
	out := sahara.Image{ID: id, Name: name}
	if u, ok := props[imageUsernameProp].(string); ok {
		out.Username = u
	}
	for k, v := range props {
		tag, ok := strings.CutPrefix(k, imageTagPropPrefix)
		if !ok || tag == "" {
			continue
		}
		if s, _ := v.(string); strings.EqualFold(s, "true") {
			out.Tags = append(out.Tags, tag)
		} else if b, _ := v.(bool); b {
			out.Tags = append(out.Tags, tag)
		}
	}
	sort.Strings(out.Tags)
	return out
}
