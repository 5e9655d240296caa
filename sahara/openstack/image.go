package openstack

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Sahara's image properties (its image registry lived in Glance).
const (
	imageUsernameProp    = "_sahara_username"
	imageDescriptionProp = "_sahara_description"
	imageTagPropPrefix   = "_sahara_tag_"
	imagePropPrefix      = "_sahara_"
)

// imageNotFound is a missing image: a validation error (Sahara's
// InvalidReferenceException) that also matches sahara.ErrNotFound.
type imageNotFound struct{ *sahara.SaharaError }

func (e imageNotFound) Is(target error) bool {
	return target == sahara.ErrNotFound || e.SaharaError.Is(target)
}
func (e imageNotFound) Unwrap() error { return e.SaharaError }

// GetImage reads the image's login user and Sahara tags from Glance; ref is
// the image's ID or its name (one filtered listing).
func (c *Cloud) GetImage(ctx context.Context, ref string) (sahara.Image, error) {
	if ref == "" {
		return sahara.Image{}, fmt.Errorf("no image given")
	}
	var img *images.Image
	var err error
	if uuidRE.MatchString(ref) {
		img, err = c.readImage(ctx, ref)
	} else {
		img, err = c.imageNamed(ctx, ref)
	}
	if err != nil {
		return sahara.Image{}, err
	}
	return imageFromProperties(img.ID, img.Name, img.Properties), nil
}

func (c *Cloud) readImage(ctx context.Context, imageID string) (*images.Image, error) {
	ic, err := c.client(ctx, svcImage)
	if err != nil {
		return nil, err
	}
	img, err := images.Get(ctx, ic, imageID).Extract()
	if err != nil {
		if isNotFound(err) {
			return nil, imageNotFound{sahara.InvalidReference(fmt.Sprintf("Requested image '%s' is not registered", imageID))}
		}
		return nil, fmt.Errorf("reading image %s: %w", imageID, err)
	}
	return img, nil
}

func (c *Cloud) imageNamed(ctx context.Context, name string) (*images.Image, error) {
	ic, err := c.client(ctx, svcImage)
	if err != nil {
		return nil, err
	}
	pages, err := images.List(ic, images.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking up image %q: %w", name, err)
	}
	list, err := images.ExtractImages(pages)
	if err != nil {
		return nil, err
	}
	switch len(list) {
	case 0:
		return nil, imageNotFound{sahara.InvalidReference(fmt.Sprintf("Requested image '%s' is not registered", name))}
	case 1:
		return &list[0], nil
	}
	return nil, fmt.Errorf("image %q: %d images have this name; give the ID", name, len(list))
}

// ImageDescription reads _sahara_description ("" when unset).
func (c *Cloud) ImageDescription(ctx context.Context, imageID string) (string, error) {
	img, err := c.readImage(ctx, imageID)
	if err != nil {
		return "", err
	}
	d, _ := img.Properties[imageDescriptionProp].(string)
	return d, nil
}

// RegisterImage sets the Sahara username and description of an image and
// makes its _sahara_tag_* properties exactly tags, in one PATCH.
func (c *Cloud) RegisterImage(ctx context.Context, imageID, username, description string, tags []string) error {
	if username == "" {
		return sahara.InvalidData("an image's username must not be empty")
	}
	img, err := c.readImage(ctx, imageID)
	if err != nil {
		return err
	}
	want := map[string]string{imageUsernameProp: username}
	if description != "" {
		want[imageDescriptionProp] = description
	}
	for _, t := range tags {
		if t == "" {
			return sahara.InvalidData("image tags must not be empty")
		}
		want[imageTagPropPrefix+t] = "True"
	}
	var ops images.UpdateOpts
	for k := range img.Properties {
		if _, keep := want[k]; !keep && strings.HasPrefix(k, imagePropPrefix) {
			ops = append(ops, images.UpdateImageProperty{Op: images.RemoveOp, Name: pointerEscape(k)})
		}
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		op := images.AddOp
		if cur, ok := img.Properties[k]; ok {
			if s, _ := cur.(string); s == want[k] {
				continue
			}
			op = images.ReplaceOp
		}
		ops = append(ops, images.UpdateImageProperty{Op: op, Name: pointerEscape(k), Value: want[k]})
	}
	return c.patchImage(ctx, imageID, ops)
}

// UnregisterImage removes every _sahara_* property; a missing image counts as done.
func (c *Cloud) UnregisterImage(ctx context.Context, imageID string) error {
	img, err := c.readImage(ctx, imageID)
	if errors.Is(err, sahara.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var ops images.UpdateOpts
	for k := range img.Properties {
		if strings.HasPrefix(k, imagePropPrefix) {
			ops = append(ops, images.UpdateImageProperty{Op: images.RemoveOp, Name: pointerEscape(k)})
		}
	}
	return c.patchImage(ctx, imageID, ops)
}

func (c *Cloud) patchImage(ctx context.Context, imageID string, ops images.UpdateOpts) error {
	if len(ops) == 0 {
		return nil
	}
	ic, err := c.client(ctx, svcImage)
	if err != nil {
		return err
	}
	if _, err := images.Update(ctx, ic, imageID, ops).Extract(); err != nil {
		return fmt.Errorf("updating the Sahara properties of image %s: %w", imageID, err)
	}
	return nil
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

// pointerEscape escapes a property name for a JSON-patch path (gophercloud
// adds the leading slash).
func pointerEscape(name string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
}
