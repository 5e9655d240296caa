package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// storeKinds names each store kind: in diagnostics (text and titles), in
// Sahara's uniqueness errors, and as the resource type Terraform's import
// command takes.
var storeKinds = map[string]struct{ title, diagTitle, nameTitle, resourceType string }{
	sahara.KindNodeGroupTemplate: {"node group template", "Node Group Template", "NodeGroup template", "saharagen_node_group_template"},
	sahara.KindClusterTemplate:   {"cluster template", "Cluster Template", "Cluster template", "saharagen_cluster_template"},
	sahara.KindCluster:           {"cluster record", "Cluster", "Cluster", "saharagen_cluster"},
}

// storeGet reads an object; found is false when it does not exist.
func storeGet(ctx context.Context, st sahara.Store, kind, id string, v any, diags *diagsT) (found bool) {
	err := st.Get(ctx, kind, id, v)
	if errors.Is(err, sahara.ErrNotFound) {
		return false
	}
	if err != nil {
		diags.AddError("Template Store Error",
			fmt.Sprintf("Reading %s %q from the template store failed. Check that the record store "+
				"(record_store, template_store_container) exists and is readable with these credentials.\n\n%v", storeKinds[kind].title, id, err))
		return false
	}
	return true
}

// storePut writes an object.
func storePut(ctx context.Context, st sahara.Store, kind, id string, v any, diags *diagsT) {
	if err := st.Put(ctx, kind, id, v); err != nil {
		diags.AddError("Template Store Error",
			fmt.Sprintf("Writing %s %q to the template store failed. Check that the record store "+
				"(record_store, template_store_container) is writable with these credentials and that its quota is not exhausted.\n\n%v", storeKinds[kind].title, id, err))
	}
}

// checkUniqueName refuses a name that another object of the kind already
// has: names are unique within a project, as in Sahara (and a cluster's name
// prefixes its servers' names). An object left by an interrupted apply is
// found here too, and the message says how to adopt it. It reads every
// object of the kind; a project holds tens of them, not thousands.
func checkUniqueName(ctx context.Context, st sahara.Store, kind, name, self string, diags *diagsT) {
	if o := findByName(ctx, st, kind, name, self, diags); o != nil {
		nameTaken(diags, kind, name, o.ID, o.Status)
	}
}

// namedObject is a stored object found by its name.
type namedObject struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"` // clusters only
}

// findByName returns the object of the kind called name, other than self;
// nil when there is none or the store failed (then diags say so).
func findByName(ctx context.Context, st sahara.Store, kind, name, self string, diags *diagsT) *namedObject {
	ids, err := st.List(ctx, kind)
	if err != nil {
		diags.AddError("Template Store Error", fmt.Sprintf("Listing the %ss of the template store failed.\n\n%v", storeKinds[kind].title, err))
		return nil
	}
	for _, id := range ids {
		if id == self {
			continue
		}
		var o namedObject
		if !storeGet(ctx, st, kind, id, &o, diags) {
			if diags.HasError() {
				return nil
			}
			continue // deleted meanwhile
		}
		if o.Name == name {
			o.ID = id
			return &o
		}
	}
	return nil
}

// nameTaken reports a name another object already has.
func nameTaken(diags *diagsT, kind, name, id, status string) {
	which := "id " + id
	if status != "" {
		which += ", status " + status
	}
	diags.AddAttributeError(path.Root("name"), "Name Already Exists", fmt.Sprintf(
		"%s with name '%s' already exists (%s); names are unique within the project. "+
			"Choose another name, or adopt the existing one: terraform import %s.<name> %s",
		storeKinds[kind].nameTitle, name, which, storeKinds[kind].resourceType, id))
}

func newID(diags *diagsT) string {
	id, err := uuid.GenerateUUID()
	if err != nil {
		diags.AddError("ID Generation Error", "Reading random bytes for a new ID failed.\n\n"+err.Error())
	}
	return id
}

func timeValue(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

func protectedError(kind, id, action string) string {
	return fmt.Sprintf("%s with id '%s' could not be %s because it's marked as protected. Set is_protected = false first (that change alone is allowed), apply, then retry.", kind, id, action)
}
