// Package lifecycle is ECR's lifecycle policies without I/O: Parse checks a
// policy's text as ECR does (its JSON schema first, with the texts ECR
// answers, then the rules between fields), and Evaluate decides, from a
// snapshot of a repository's images and an explicit now, which images the
// policy expires or archives. Carrying the decisions out is the registry's
// job.
package lifecycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of a policy.
const (
	MinLength = 100   // characters, for PutLifecyclePolicy
	MaxLength = 30720 // characters
	MaxRules  = 50
	// MaxWildcards is the most '*' one tagPatternList entry may hold.
	MaxWildcards = 4
	// MinArchiveDays is the least countNumber of a sinceImageTransitioned
	// rule: archived images are kept at least 90 days.
	MinArchiveDays = 90
)

// Tag statuses, count types, actions and storage classes as the policy
// spells them.
const (
	TagTagged   = "tagged"
	TagUntagged = "untagged"
	TagAny      = "any"

	CountMoreThan         = "imageCountMoreThan"
	SincePushed           = "sinceImagePushed"
	SincePulled           = "sinceImagePulled"
	SinceTransitioned     = "sinceImageTransitioned"
	ActionExpire          = "expire"
	ActionTransition      = "transition"
	StorageStandard       = "standard"
	StorageArchive        = "archive"
	countUnitDays         = "days"
	validationFailurePref = "Lifecycle policy validation failure: "
)

// Policy is a parsed, valid policy.
type Policy struct {
	Rules []Rule // by rulePriority, lowest first
	// Text is the policy as ECR stores it: the text sent, minified, keys
	// in the order sent.
	Text string
}

// Rule is one rule of a policy.
type Rule struct {
	Priority     int
	Description  string
	TagStatus    string   // TagTagged, TagUntagged or TagAny
	TagPrefixes  []string // all must match (AND)
	TagPatterns  []string // all must match (AND)
	StorageClass string   // StorageStandard unless given
	CountType    string
	CountNumber  int
	Action       string // ActionExpire or ActionTransition
	// TargetStorageClass is StorageArchive for a transition.
	TargetStorageClass string
}

// Error is a policy that is not valid: ECR's InvalidParameterException.
type Error struct {
	Detail string
	// closed: the detail is quoted to its end, as ECR does for most
	// details (not for the oneOf and minimum ones of its schema).
	closed bool
}

func (e *Error) Error() string {
	msg := "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: '" + validationFailurePref + e.Detail
	if e.closed {
		msg += "'"
	}
	return msg
}

func fail(format string, args ...any) *Error {
	return &Error{Detail: fmt.Sprintf(format, args...), closed: true}
}

func failOpen(format string, args ...any) *Error {
	return &Error{Detail: fmt.Sprintf(format, args...)}
}

// Parse checks text and returns the policy. minLength is MinLength for a
// repository's policy and 0 for a creation template's.
func Parse(text string, minLength int) (*Policy, error) {
	if n := utf8.RuneCountInString(text); n < minLength || n > MaxLength {
		return nil, fmt.Errorf("Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Member must have length between %d and %d', got %d characters", minLength, MaxLength, n)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &top); err != nil || top == nil {
		return nil, fail("Could not map policyString into LifecyclePolicy.")
	}
	if err := members(top, []string{"rules"}, []string{"rules"}); err != nil {
		return nil, err
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(top["rules"], &raw); err != nil || raw == nil {
		return nil, typeError(top["rules"], "array")
	}
	p := &Policy{}
	for _, r := range raw {
		rule, err := parseRule(r)
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, *rule)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	sort.SliceStable(p.Rules, func(i, j int) bool { return p.Rules[i].Priority < p.Rules[j].Priority })
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(text)); err != nil {
		return nil, fail("Could not map policyString into LifecyclePolicy.")
	}
	p.Text = buf.String()
	return p, nil
}

// jsonType names the JSON type of a value as the schema validator does.
func jsonType(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	switch {
	case len(t) == 0:
		return "null"
	case t[0] == '{':
		return "object"
	case t[0] == '[':
		return "array"
	case t[0] == '"':
		return "string"
	case bytes.Equal(t, []byte("null")):
		return "null"
	case bytes.Equal(t, []byte("true")), bytes.Equal(t, []byte("false")):
		return "boolean"
	case bytes.ContainsAny(t, ".eE"):
		return "number"
	}
	return "integer"
}

func typeError(raw json.RawMessage, want string) *Error {
	return fail("instance type (%s) does not match any allowed primitive type (allowed: [\"%s\"])", jsonType(raw), want)
}

// quoted lists names as the schema validator does: ["a","b"].
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return "[" + strings.Join(q, ",") + "]"
}

// members checks an object's members against the allowed and required ones.
func members(obj map[string]json.RawMessage, allowed, required []string) *Error {
	var unknown, missing []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	slices.Sort(unknown)
	slices.Sort(missing)
	switch {
	case len(unknown) > 0:
		return fail("object instance has properties which are not allowed by the schema: (%s)", quoted(unknown))
	case len(missing) > 0:
		return fail("object has missing required properties (%s)", quoted(missing))
	}
	return nil
}

func object(raw json.RawMessage) (map[string]json.RawMessage, *Error) {
	var obj map[string]json.RawMessage
	if jsonType(raw) != "object" || json.Unmarshal(raw, &obj) != nil {
		return nil, typeError(raw, "object")
	}
	return obj, nil
}

func stringOf(raw json.RawMessage) (string, *Error) {
	var s string
	if jsonType(raw) != "string" || json.Unmarshal(raw, &s) != nil {
		return "", typeError(raw, "string")
	}
	return s, nil
}

func integerOf(raw json.RawMessage) (int, *Error) {
	var n int
	if jsonType(raw) != "integer" || json.Unmarshal(raw, &n) != nil {
		return 0, typeError(raw, "integer")
	}
	if n < 1 {
		return 0, failOpen("numeric instance is lower than the required minimum (minimum: 1, found: %d)", n)
	}
	return n, nil
}

func enumOf(raw json.RawMessage, values ...string) (string, *Error) {
	s, err := stringOf(raw)
	if err != nil {
		return "", err
	}
	if !slices.Contains(values, s) {
		q := make([]string, len(values))
		for i, v := range values {
			q[i] = `"` + v + `"`
		}
		return "", fail("instance value (%s) not found in enum :(possible values: [%s])", s, strings.Join(q, ", "))
	}
	return s, nil
}

func stringsOf(raw json.RawMessage) ([]string, *Error) {
	var items []json.RawMessage
	if jsonType(raw) != "array" || json.Unmarshal(raw, &items) != nil {
		return nil, typeError(raw, "array")
	}
	out := []string{}
	for _, it := range items {
		s, err := stringOf(it)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// oneOf is the schema's answer for a selection or action that fits
// neither of its shapes (count or age; expire or transition).
var oneOf = failOpen("instance failed to match exactly one schema (matched 0 out of 2)")

func parseRule(raw json.RawMessage) (*Rule, error) {
	obj, err := object(raw)
	if err != nil {
		return nil, err
	}
	if err := members(obj, []string{"rulePriority", "description", "selection", "action"}, []string{"rulePriority", "selection", "action"}); err != nil {
		return nil, err
	}
	r := &Rule{StorageClass: StorageStandard}
	if r.Priority, err = integerOf(obj["rulePriority"]); err != nil {
		return nil, err
	}
	if d, ok := obj["description"]; ok {
		if r.Description, err = stringOf(d); err != nil {
			return nil, err
		}
	}
	sel, err := object(obj["selection"])
	if err != nil {
		return nil, err
	}
	if err := members(sel, []string{"tagStatus", "tagPatternList", "tagPrefixList", "storageClass", "countType", "countUnit", "countNumber"},
		[]string{"tagStatus", "countType", "countNumber"}); err != nil {
		return nil, err
	}
	if r.TagStatus, err = enumOf(sel["tagStatus"], TagAny, TagTagged, TagUntagged); err != nil {
		return nil, err
	}
	if v, ok := sel["tagPrefixList"]; ok {
		if r.TagPrefixes, err = stringsOf(v); err != nil {
			return nil, err
		}
	}
	if v, ok := sel["tagPatternList"]; ok {
		if r.TagPatterns, err = stringsOf(v); err != nil {
			return nil, err
		}
	}
	if v, ok := sel["storageClass"]; ok {
		if r.StorageClass, err = enumOf(v, StorageStandard, StorageArchive); err != nil {
			return nil, err
		}
	}
	// countType picks one of two shapes: a count (no countUnit) or an age
	// (countUnit days).
	ct, err := stringOf(sel["countType"])
	if err != nil {
		return nil, oneOf
	}
	unit, hasUnit := sel["countUnit"]
	switch ct {
	case CountMoreThan:
		if hasUnit {
			return nil, oneOf
		}
	case SincePushed, SincePulled, SinceTransitioned:
		if !hasUnit || jsonType(unit) != "string" {
			return nil, oneOf
		}
		if _, err := enumOf(unit, countUnitDays); err != nil {
			return nil, err
		}
	default:
		return nil, oneOf
	}
	r.CountType = ct
	if r.CountNumber, err = integerOf(sel["countNumber"]); err != nil {
		return nil, err
	}
	act, err := object(obj["action"])
	if err != nil {
		return nil, err
	}
	if err := members(act, []string{"type", "targetStorageClass"}, []string{"type"}); err != nil {
		return nil, err
	}
	if r.Action, err = enumOf(act["type"], ActionExpire, ActionTransition); err != nil {
		return nil, err
	}
	target, hasTarget := act["targetStorageClass"]
	switch {
	case r.Action == ActionExpire && hasTarget, r.Action == ActionTransition && (!hasTarget || jsonType(target) != "string"):
		return nil, oneOf
	case hasTarget:
		if r.TargetStorageClass, err = enumOf(target, StorageArchive); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// check applies the rules between fields and between rules, in ECR's
// order, and returns the first broken.
func (p *Policy) check() error {
	if len(p.Rules) == 0 {
		return fail("the policy has no rules; give at least one")
	}
	if len(p.Rules) > MaxRules {
		return fail("the policy has %d rules; a policy may have at most %d", len(p.Rules), MaxRules)
	}
	seen := map[int]bool{}
	for _, r := range p.Rules {
		if seen[r.Priority] {
			return fail("rulePriority %d is given to more than one rule; every rule needs a rulePriority of its own", r.Priority)
		}
		seen[r.Priority] = true
	}
	for _, r := range p.Rules {
		lists := len(r.TagPrefixes) + len(r.TagPatterns)
		switch {
		case r.TagStatus == TagTagged && lists == 0:
			return fail("Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED. (rule %d)", r.Priority)
		case r.TagStatus != TagTagged && lists > 0:
			return fail("tagPrefixList and tagPatternList can only be used with tagStatus=TAGGED (rule %d has tagStatus=%s)", r.Priority, strings.ToUpper(r.TagStatus))
		case len(r.TagPrefixes) > 0 && len(r.TagPatterns) > 0:
			return fail("a rule may specify tagPrefixList or tagPatternList, not both (rule %d)", r.Priority)
		}
		for _, pat := range r.TagPatterns {
			if strings.Count(pat, "*") > MaxWildcards {
				return fail("the tagPatternList entry %q of rule %d has %d wildcards; an entry may have at most %d", pat, r.Priority, strings.Count(pat, "*"), MaxWildcards)
			}
		}
		for _, s := range append(slices.Clone(r.TagPrefixes), r.TagPatterns...) {
			if s == "" {
				return fail("rule %d has an empty entry in its tag list", r.Priority)
			}
		}
		switch {
		case r.CountType == SincePulled && r.Action != ActionTransition:
			return fail("countType sinceImagePulled can only be used with action type transition (rule %d)", r.Priority)
		case r.CountType == SinceTransitioned && r.Action != ActionExpire:
			return fail("countType sinceImageTransitioned can only be used with action type expire (rule %d)", r.Priority)
		case r.CountType == SinceTransitioned && r.StorageClass != StorageArchive:
			return fail("countType sinceImageTransitioned requires storageClass archive (rule %d)", r.Priority)
		case r.StorageClass == StorageArchive && r.CountType != SinceTransitioned:
			return fail("storageClass archive can only be used with countType sinceImageTransitioned (rule %d)", r.Priority)
		case r.Action == ActionTransition && r.StorageClass == StorageArchive:
			return fail("images in the archive storage class cannot be transitioned (rule %d)", r.Priority)
		case r.CountType == SinceTransitioned && r.CountNumber < MinArchiveDays:
			return fail("archived images have a minimum storage duration of %d days; rule %d expires them after %d days", MinArchiveDays, r.Priority, r.CountNumber)
		}
	}
	// Per storage class: the any rule comes last, one rule selects
	// untagged images, no two rules select the same tags.
	byClass := map[string][]Rule{}
	for _, r := range p.Rules {
		byClass[r.StorageClass] = append(byClass[r.StorageClass], r)
	}
	for _, class := range []string{StorageStandard, StorageArchive} {
		rules := byClass[class]
		sort.Slice(rules, func(i, j int) bool { return rules[i].Priority < rules[j].Priority })
		untagged := 0
		lists := map[string]int{}
		for i, r := range rules {
			switch r.TagStatus {
			case TagAny:
				if i != len(rules)-1 {
					return fail("Rule for tagStatus=ANY must have the lowest priority per storage class (rule %d is followed by rule %d)", r.Priority, rules[i+1].Priority)
				}
			case TagUntagged:
				if untagged++; untagged > 1 {
					return fail("Only one rule can select Untagged images per storage class (rule %d)", r.Priority)
				}
			case TagTagged:
				key := "prefix:" + strings.Join(sortedSet(r.TagPrefixes), "\x00") + "|pattern:" + strings.Join(sortedSet(r.TagPatterns), "\x00")
				if prev, dup := lists[key]; dup {
					return fail("rules %d and %d select the same tags; the rules selecting a storage class must each have their own set of prefixes or patterns", prev, r.Priority)
				}
				lists[key] = r.Priority
			}
		}
	}
	return nil
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// Image is what evaluation knows of one image of the repository.
type Image struct {
	Digest   string
	Tags     []string
	PushedAt time.Time
	// LastPulledAt is zero if the image was never pulled.
	LastPulledAt time.Time
	// StorageClass is StorageStandard ("" means it) or StorageArchive.
	StorageClass string
	// ArchivedAt is when it moved to the archive; ActivatedAt when it was
	// last restored from it (zero if never).
	ArchivedAt, ActivatedAt time.Time
	// InIndex: a manifest list or index in the repository names it; it is
	// then never expired or archived.
	InIndex bool
}

func (i Image) class() string {
	if i.StorageClass == "" {
		return StorageStandard
	}
	return i.StorageClass
}

// ageKey is when the image's age counts from: its push, or its last
// restore from the archive.
func (i Image) ageKey() time.Time {
	if i.ActivatedAt.After(i.PushedAt) {
		return i.ActivatedAt
	}
	return i.PushedAt
}

// pulledKey is its last pull, or failing that its age key.
func (i Image) pulledKey() time.Time {
	if i.LastPulledAt.After(i.ageKey()) {
		return i.LastPulledAt
	}
	return i.ageKey()
}

// Action is what the policy does to one image.
type Action struct {
	Image
	Rule               int    // the rulePriority that acts
	Type               string // ActionExpire or ActionTransition
	TargetStorageClass string // StorageArchive for a transition
}

// Evaluate returns what p does to images at now: at most one action per
// image, from the highest-priority rule that acts on it, ordered by rule
// and then oldest first. It follows ECR's documented rules: rules apply in
// priority order; an image that matches a rule's tag requirement cannot be
// acted on by a lower-priority rule, even if that rule did not act on it;
// counts include images a higher rule acted on; imageCountMoreThan keeps
// the newest; an image a manifest list or index names is never acted on.
func Evaluate(p *Policy, images []Image, now time.Time) []Action {
	claimed := map[string]bool{}
	acted := map[string]bool{}
	var out []Action
	for _, r := range p.Rules {
		var matched []Image
		for _, img := range images {
			if img.class() == r.StorageClass && r.matches(img.Tags) {
				matched = append(matched, img)
			}
		}
		var chosen []Image
		for _, img := range r.candidates(matched, now) {
			if !claimed[img.Digest] && !acted[img.Digest] && !img.InIndex {
				chosen = append(chosen, img)
			}
		}
		sort.SliceStable(chosen, func(i, j int) bool { return chosen[i].ageKey().Before(chosen[j].ageKey()) })
		for _, img := range chosen {
			acted[img.Digest] = true
			out = append(out, Action{Image: img, Rule: r.Priority, Type: r.Action, TargetStorageClass: r.TargetStorageClass})
		}
		for _, img := range matched {
			claimed[img.Digest] = true
		}
	}
	return out
}

// matches reports whether tags meet the rule's tag requirement.
func (r Rule) matches(tags []string) bool {
	switch r.TagStatus {
	case TagUntagged:
		return len(tags) == 0
	case TagAny:
		return true
	}
	if len(tags) == 0 {
		return false
	}
	for _, prefix := range r.TagPrefixes {
		if !slices.ContainsFunc(tags, func(t string) bool { return strings.HasPrefix(t, prefix) }) {
			return false
		}
	}
	for _, pat := range r.TagPatterns {
		if !slices.ContainsFunc(tags, func(t string) bool { return Glob(pat, t) }) {
			return false
		}
	}
	return true
}

// candidates are the matched images the rule's count selects.
func (r Rule) candidates(matched []Image, now time.Time) []Image {
	limit := now.Add(-time.Duration(r.CountNumber) * 24 * time.Hour)
	var out []Image
	switch r.CountType {
	case CountMoreThan:
		sorted := slices.Clone(matched)
		sort.SliceStable(sorted, func(i, j int) bool {
			a, b := sorted[i].ageKey(), sorted[j].ageKey()
			if !a.Equal(b) {
				return a.After(b)
			}
			return sorted[i].Digest < sorted[j].Digest
		})
		if len(sorted) > r.CountNumber {
			out = sorted[r.CountNumber:]
		}
	case SincePushed:
		for _, img := range matched {
			if img.ageKey().Before(limit) {
				out = append(out, img)
			}
		}
	case SincePulled:
		for _, img := range matched {
			if img.pulledKey().Before(limit) {
				out = append(out, img)
			}
		}
	case SinceTransitioned:
		for _, img := range matched {
			if !img.ArchivedAt.IsZero() && img.ArchivedAt.Before(limit) {
				out = append(out, img)
			}
		}
	}
	return out
}

// Glob reports whether s matches pattern as a whole, where '*' matches any
// run of characters (the empty one too) and every other character itself,
// case-sensitively.
func Glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
