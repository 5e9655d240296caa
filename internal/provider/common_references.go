package provider

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// checkReferences runs the library's check of what a description names in
// the cloud (flavors, images with their tags, networks; by name or ID) at
// plan, with the same attribute paths as the plugin's checks. The cloud
// adapter reads each name once per run. Without a connection at plan the
// apply checks them (the engine does in Validating).
func checkReferences(ctx context.Context, data *providerData, title string, check func(context.Context, *sahara.Engine) error, diags *diagsT) {
	b, d := data.Backend(ctx)
	if d.HasError() {
		tflog.Debug(ctx, "Flavors, images and networks are checked at apply: the cloud is not reachable at plan")
		return
	}
	eng, err := data.Engine(ctx, b, nil, nil)
	if err == nil {
		err = check(ctx, eng)
	}
	if err != nil && !errors.Is(err, sahara.ErrValidation) {
		diags.AddWarning("Cloud References Not Checked",
			"The flavors, images and networks of this plan could not be checked at plan; the apply checks them before it creates anything.\n\n"+err.Error())
		return
	}
	addValidationErrors(diags, title, err)
}
