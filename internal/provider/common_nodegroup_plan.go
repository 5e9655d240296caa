package provider

import (
	"context"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// Node group fields are planned field by field the same way (config value,
// else the prior state's, else unknown), so they are walked by reflection
// instead of twenty copies of the same three lines.

// nodeGroupFieldNames lists the tfsdk names of nodeGroupFields in field
// order, read from the struct tags once.
var nodeGroupFieldNames = tfsdkNames(reflect.TypeFor[nodeGroupFields]())

func tfsdkNames(t reflect.Type) []string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Tag.Get("tfsdk")
	}
	return names
}

// fieldValues returns the tfsdk name → value of a nodeGroupFields.
func fieldValues(f *nodeGroupFields) map[string]attr.Value {
	out := map[string]attr.Value{}
	v := reflect.ValueOf(f).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		out[t.Field(i).Tag.Get("tfsdk")] = v.Field(i).Interface().(attr.Value)
	}
	return out
}

// mergeFields plans dst: each field null in cfg takes prior's value when
// prior is not nil, else becomes unknown; fields set in cfg keep cfg's value.
func mergeFields(cfg nodeGroupFields, prior *nodeGroupFields) nodeGroupFields {
	out := cfg
	v := reflect.ValueOf(&out).Elem()
	var p reflect.Value
	if prior != nil {
		p = reflect.ValueOf(prior).Elem()
	}
	for i := 0; i < v.NumField(); i++ {
		cur := v.Field(i).Interface().(attr.Value)
		if !cur.IsNull() {
			continue
		}
		if prior != nil {
			v.Field(i).Set(p.Field(i))
			continue
		}
		v.Field(i).Set(reflect.ValueOf(unknownLike(cur)))
	}
	return out
}

// fillUnknown plans the unknown fields of planned as resolved gives them
// (what the apply will store), except node_configs, which the plugin's
// recommendations may change at apply.
func fillUnknown(planned, resolved nodeGroupFields) nodeGroupFields {
	out := planned
	v, r := reflect.ValueOf(&out).Elem(), reflect.ValueOf(&resolved).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).Interface().(attr.Value).IsUnknown() {
			v.Field(i).Set(r.Field(i))
		}
	}
	out.NodeConfigs = planned.NodeConfigs
	return out
}

// changedFields lists the fields set in cfg whose value differs from prior.
func changedFields(cfg, prior nodeGroupFields) []string {
	c, p := fieldValues(&cfg), fieldValues(&prior)
	var out []string
	for _, name := range nodeGroupFieldNames {
		if cv := c[name]; !cv.IsNull() && !cv.IsUnknown() && !cv.Equal(p[name]) {
			out = append(out, name)
		}
	}
	return out
}

func unknownLike(v attr.Value) attr.Value {
	switch x := v.(type) {
	case basetypes.StringValue:
		return types.StringUnknown()
	case basetypes.Int64Value:
		return types.Int64Unknown()
	case basetypes.BoolValue:
		return types.BoolUnknown()
	case basetypes.ListValue:
		return types.ListUnknown(x.ElementType(context.Background()))
	case basetypes.MapValue:
		return types.MapUnknown(x.ElementType(context.Background()))
	default:
		panic("unknownLike: unexpected type " + reflect.TypeOf(v).String())
	}
}
