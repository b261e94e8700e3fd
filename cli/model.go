package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-registry/berth/awsproto"
	"github.com/berth-registry/berth/ecr"
	"github.com/berth-registry/berth/models"
)

// service is one API as the CLI sees it: the model's shapes, plus what
// awsproto does not keep because only a client needs it: each structure's
// members in the model's order (the order the AWS CLI prints and
// generates skeletons in) and the documentation.
type service struct {
	name  string // the CLI's command: ecr, ecr-public
	model *awsproto.Model
	// ops are the operations berth serves, by their CLI name (put-image).
	ops map[string]*awsproto.Operation
	// order is each structure's members in the model's order.
	order map[string][]string
	// opDocs are the operations' documentation; memberDocs a structure's
	// members', by shape name then member name.
	opDocs     map[string]string
	memberDocs map[string]map[string]string
	// paginators are the operations the CLI pages through, by model
	// name.
	paginators map[string]*paginator
}

// loadService reads the embedded model of the named CLI service.
func loadService(name string) (*service, error) {
	var data, pages []byte
	var served []string
	switch name {
	case "ecr":
		data, pages, served = models.ECR, models.ECRPaginators, ecr.Served()
	case "ecr-public":
		data, pages, served = models.ECRPublic, models.ECRPublicPaginators, ecr.PublicServed()
	default:
		return nil, fmt.Errorf("unknown service %q", name)
	}
	m, err := awsproto.Load(data)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Operations map[string]struct {
			Documentation string `json:"documentation"`
		} `json:"operations"`
		Shapes map[string]struct {
			Members orderedMembers `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	s := &service{name: name, model: m, ops: map[string]*awsproto.Operation{}, order: map[string][]string{},
		opDocs: map[string]string{}, memberDocs: map[string]map[string]string{}}
	for _, op := range served {
		if o := m.Operations[op]; o != nil {
			s.ops[kebab(op)] = o
			s.opDocs[op] = raw.Operations[op].Documentation
		}
	}
	if s.paginators, err = loadPaginators(pages); err != nil {
		return nil, err
	}
	for shape, rs := range raw.Shapes {
		if len(rs.Members.names) > 0 {
			s.order[shape] = rs.Members.names
			s.memberDocs[shape] = rs.Members.docs
		}
	}
	return s, nil
}

// members returns a structure's members in the model's order.
func (s *service) members(sh *awsproto.Shape) []string {
	if o, ok := s.order[sh.Name]; ok {
		return o
	}
	return sh.MemberNames
}

// opNames returns the CLI names of the served operations, sorted.
func (s *service) opNames() []string {
	var names []string
	for n := range s.ops {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// orderedMembers reads a structure's "members" keeping their order and
// documentation.
type orderedMembers struct {
	names []string
	docs  map[string]string
}

func (o *orderedMembers) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("members must be a JSON object")
	}
	o.docs = map[string]string{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		var ref struct {
			Documentation string `json:"documentation"`
		}
		if err := dec.Decode(&ref); err != nil {
			return err
		}
		o.names = append(o.names, name)
		o.docs[name] = ref.Documentation
	}
	return nil
}

// kebab spells a model name as the AWS CLI does (botocore's xform_name
// with "-"): PutImage → put-image, imageIds → image-ids.
func kebab(name string) string {
	if m := specialCase.FindString(name); m != "" {
		name = name[:len(name)-len(m)] + "-" + strings.ToLower(m)
	}
	name = firstCap.ReplaceAllString(name, "${1}-${2}")
	name = numberCap.ReplaceAllString(name, "${1}-${2}")
	return strings.ToLower(endCap.ReplaceAllString(name, "${1}-${2}"))
}

var (
	specialCase = regexp.MustCompile(`[A-Z]{2,}s$`)
	firstCap    = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	numberCap   = regexp.MustCompile(`([a-z])([0-9]+)`)
	endCap      = regexp.MustCompile(`([a-z0-9])([A-Z])`)
)
