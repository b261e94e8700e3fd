package policy

import "strings"

// DependsOnly reports whether what p decides for a request depends on no
// condition key and no policy variable but those fixed says are fixed for
// the request's principal, action, resource and the like: a caller may then
// keep p's decisions for as long as p and those stay the same. Keys such
// as aws:CurrentTime or a resource's tags make every decision fresh.
func (p *Policy) DependsOnly(fixed func(key string) bool) bool {
	for i := range p.Statements {
		s := &p.Statements[i]
		for _, c := range s.Condition {
			if !fixed(c.Key) {
				return false
			}
			if p.usesVariables() && !variablesOnly(c.Values, fixed) {
				return false
			}
		}
		if p.usesVariables() && (!variablesOnly(s.Resource, fixed) || !variablesOnly(s.NotResource, fixed)) {
			return false
		}
	}
	return true
}

// variablesOnly reports whether every ${…} in values names a fixed key (or
// is one of the literal escapes ${*}, ${?}, ${$}).
func variablesOnly(values []string, fixed func(string) bool) bool {
	for _, v := range values {
		for {
			open := strings.Index(v, "${")
			if open < 0 {
				break
			}
			end := closingBrace(v[open:])
			if end < 0 {
				return false
			}
			name, _, _ := strings.Cut(v[open+2:open+end], ",")
			name = strings.TrimSpace(name)
			if name != "*" && name != "?" && name != "$" && !fixed(name) {
				return false
			}
			v = v[open+end+1:]
		}
	}
	return true
}
