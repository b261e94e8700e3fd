package awsproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// queryTraits are what the query protocol needs of a model beyond its
// shapes: the names things have on the wire, how the XML of an answer is
// laid out, and the code and status of each error. JSON protocols need
// none of them, so Load reads them only for a query model.
type queryTraits struct {
	// namespace is the XML namespace of every answer.
	namespace string
	// results names each operation's result element (its resultWrapper).
	results map[string]string
	shapes  map[string]*queryShape
}

// queryShape is one shape's traits.
type queryShape struct {
	// order is a structure's members in the model's order, which an answer
	// keeps (Shape.MemberNames are sorted).
	order []string
	// members are the references of a structure's members; item, key and
	// value those of a list's member and a map's key and value.
	members          map[string]wire
	item, key, value wire
	// code, status and sender are an exception's "error" trait (the
	// query protocol's code, often not the shape's name).
	code   string
	status int
	sender bool
}

// wire is what a reference to a shape says of its serialisation, the
// reference's own traits over its target shape's.
type wire struct {
	// name is the locationName: the parameter segment and XML element a
	// member, list item or map key or value goes by, where the model renames
	// it ("" for the default: the member's name, "member", "key", "value").
	name string
	// flattened: a list's items (a map's entries) stand in for the list
	// itself, without the member (entry) level.
	flattened bool
	// timestampFormat is iso8601 (the default), unixTimestamp or rfc822.
	timestampFormat string
}

// named is w's name, or def where the model keeps the default.
func (w wire) named(def string) string {
	if w.name != "" {
		return w.name
	}
	return def
}

type rawQueryRef struct {
	Shape           string `json:"shape"`
	LocationName    string `json:"locationName"`
	Flattened       bool   `json:"flattened"`
	TimestampFormat string `json:"timestampFormat"`
}

type rawQueryShape struct {
	Members         orderedRefs  `json:"members"`
	Member          *rawQueryRef `json:"member"`
	Key             *rawQueryRef `json:"key"`
	Value           *rawQueryRef `json:"value"`
	LocationName    string       `json:"locationName"`
	Flattened       bool         `json:"flattened"`
	TimestampFormat string       `json:"timestampFormat"`
	Fault           bool         `json:"fault"`
	Error           *struct {
		Code           string `json:"code"`
		HTTPStatusCode int    `json:"httpStatusCode"`
		SenderFault    bool   `json:"senderFault"`
	} `json:"error"`
}

// orderedRefs are a structure's members in the order the model lists them.
type orderedRefs struct {
	names []string
	refs  map[string]rawQueryRef
}

func (o *orderedRefs) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("members must be a JSON object")
	}
	o.refs = map[string]rawQueryRef{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		var r rawQueryRef
		if err := dec.Decode(&r); err != nil {
			return err
		}
		o.names = append(o.names, name)
		o.refs[name] = r
	}
	return nil
}

// loadQueryTraits reads the query protocol's traits of a model Load has
// read (so its shapes exist and its references resolve).
func loadQueryTraits(data []byte) (*queryTraits, error) {
	var raw struct {
		Metadata struct {
			APIVersion     string `json:"apiVersion"`
			EndpointPrefix string `json:"endpointPrefix"`
			SigningName    string `json:"signingName"`
			XMLNamespace   string `json:"xmlNamespace"`
		} `json:"metadata"`
		Operations map[string]struct {
			Output *struct {
				ResultWrapper string `json:"resultWrapper"`
			} `json:"output"`
		} `json:"operations"`
		Shapes map[string]rawQueryShape `json:"shapes"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("awsproto: reading the model's query traits: %w", err)
	}
	md := raw.Metadata
	q := &queryTraits{namespace: md.XMLNamespace, results: map[string]string{}, shapes: map[string]*queryShape{}}
	if q.namespace == "" {
		host := md.EndpointPrefix
		if host == "" {
			host = md.SigningName
		}
		q.namespace = "https://" + host + ".amazonaws.com/doc/" + md.APIVersion + "/"
	}
	for name, op := range raw.Operations {
		if op.Output != nil && op.Output.ResultWrapper != "" {
			q.results[name] = op.Output.ResultWrapper
		}
	}
	ref := func(r *rawQueryRef) wire {
		if r == nil {
			return wire{}
		}
		target := raw.Shapes[r.Shape]
		w := wire{name: r.LocationName, flattened: r.Flattened || target.Flattened, timestampFormat: r.TimestampFormat}
		if w.name == "" {
			w.name = target.LocationName
		}
		if w.timestampFormat == "" {
			w.timestampFormat = target.TimestampFormat
		}
		return w
	}
	for name, rs := range raw.Shapes {
		qs := &queryShape{order: rs.Members.names, item: ref(rs.Member), key: ref(rs.Key), value: ref(rs.Value)}
		if len(rs.Members.names) > 0 {
			qs.members = map[string]wire{}
			for mn, mr := range rs.Members.refs {
				qs.members[mn] = ref(&mr)
			}
		}
		switch {
		case rs.Error != nil:
			qs.code, qs.status, qs.sender = rs.Error.Code, rs.Error.HTTPStatusCode, rs.Error.SenderFault
		case rs.Fault:
			qs.code, qs.status = name, http.StatusInternalServerError
		default:
			qs.code, qs.status, qs.sender = name, http.StatusBadRequest, true
		}
		if qs.status == 0 {
			qs.status = http.StatusBadRequest
		}
		q.shapes[name] = qs
	}
	return q, nil
}

// queryShape is the traits of s: none for a model without them.
func (m *Model) queryShape(s *Shape) *queryShape {
	if m.query != nil {
		if qs := m.query.shapes[s.Name]; qs != nil {
			return qs
		}
	}
	return &queryShape{}
}

// memberOrder is a structure's members in the model's order.
func (m *Model) memberOrder(s *Shape) []string {
	if qs := m.queryShape(s); len(qs.order) == len(s.MemberNames) {
		return qs.order
	}
	return s.MemberNames
}
