package provider

import (
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestNodeGroupFields_NamesAndSchemaFollowTheStruct: every field of
// nodeGroupFields is in nodeGroupFieldNames and in the schema of both modes
// (and the schema has no attribute the struct lacks), and a change of any
// field is seen by changedFields, which decides replacement.
func TestNodeGroupFields_NamesAndSchemaFollowTheStruct(t *testing.T) {
	ft := reflect.TypeFor[nodeGroupFields]()
	if len(nodeGroupFieldNames) != ft.NumField() {
		t.Fatalf("%d names for %d fields: %v", len(nodeGroupFieldNames), ft.NumField(), nodeGroupFieldNames)
	}
	for mode, modeName := range map[ngMode]string{ngTemplate: "template", ngNested: "nested"} {
		attrs := nodeGroupFieldAttributes(mode, "")
		if len(attrs) != ft.NumField() {
			t.Errorf("%s schema: %d attributes for %d fields", modeName, len(attrs), ft.NumField())
		}
		for i := 0; i < ft.NumField(); i++ {
			name := ft.Field(i).Tag.Get("tfsdk")
			if !slices.Contains(nodeGroupFieldNames, name) {
				t.Errorf("field %s (%q) is not in nodeGroupFieldNames", ft.Field(i).Name, name)
			}
			if _, ok := attrs[name]; !ok {
				t.Errorf("field %s (%q) is not in the %s schema", ft.Field(i).Name, name, modeName)
			}
		}
	}

	var prior nodeGroupFields // zero values are null
	for i, name := range nodeGroupFieldNames {
		var cfg nodeGroupFields
		f := reflect.ValueOf(&cfg).Elem().Field(i)
		switch f.Interface().(type) {
		case types.String:
			f.Set(reflect.ValueOf(types.StringValue("x")))
		case types.Bool:
			f.Set(reflect.ValueOf(types.BoolValue(true)))
		case types.Int64:
			f.Set(reflect.ValueOf(types.Int64Value(3)))
		case types.List:
			f.Set(reflect.ValueOf(types.ListValueMust(types.StringType, []attr.Value{types.StringValue("x")})))
		case types.Map:
			f.Set(reflect.ValueOf(types.MapValueMust(configsType.ElemType, map[string]attr.Value{
				"general": types.MapValueMust(types.StringType, map[string]attr.Value{"k": types.StringValue("v")})})))
		default:
			t.Fatalf("field %s: no test value for %s", name, f.Type())
		}
		if got := changedFields(cfg, prior); !slices.Equal(got, []string{name}) {
			t.Errorf("changing %s alone: changedFields = %v", name, got)
		}
	}
}
