package cli

import (
	"encoding/json"
	"slices"

	"github.com/berth-registry/berth/awsproto"
)

// inputSkeleton is what --generate-cli-skeleton (input) prints, as
// botocore's ArgumentGenerator makes it: every member, empty strings (an
// enum's first value, where the AWS CLI picks one at random), zeros, true, null for blobs, one element per list,
// KeyName for a map's key.
func inputSkeleton(svc *service, op *awsproto.Operation) (any, orders) {
	ord := orders{}
	if op.Input == nil {
		return map[string]any{}, ord
	}
	return skeleton(svc, ord, op.Input, "", false, nil), ord
}

// outputSkeleton is what --generate-cli-skeleton output prints: as the
// input's, but a string is its member's name (its shape's, in a list).
func outputSkeleton(svc *service, op *awsproto.Operation) (any, orders) {
	ord := orders{}
	if op.Output == nil {
		return map[string]any{}, ord
	}
	return skeleton(svc, ord, op.Output, "", true, nil), ord
}

func skeleton(svc *service, ord orders, sh *awsproto.Shape, name string, memberNames bool, stack []string) any {
	recurs := slices.Contains(stack, sh.Name)
	stack = append(stack, sh.Name)
	switch sh.Type {
	case "structure":
		m := map[string]any{}
		if recurs {
			return m // a recursive structure stops where it recurs
		}
		var keys []string
		for _, mn := range svc.members(sh) {
			m[mn] = skeleton(svc, ord, sh.Members[mn], mn, memberNames, stack)
			keys = append(keys, mn)
		}
		ord.set(m, keys)
		return m
	case "list":
		return []any{skeleton(svc, ord, sh.Member, sh.Member.Name, memberNames, stack)}
	case "map":
		return map[string]any{"KeyName": skeleton(svc, ord, sh.Value, "", memberNames, stack)}
	case "string":
		switch {
		case memberNames:
			return name
		case len(sh.Enum) > 0:
			return sh.Enum[0] // the AWS CLI picks one at random
		}
		return ""
	case "integer", "long":
		return json.Number("0")
	case "float", "double":
		return json.Number("0.0")
	case "boolean":
		return true
	case "timestamp":
		return "1970-01-01T00:00:00"
	}
	return nil // blob
}
