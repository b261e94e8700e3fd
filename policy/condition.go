package policy

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// baseOp is a condition operator without its set qualifier and IfExists.
type baseOp uint8

const (
	opUnknown baseOp = iota
	opStringEquals
	opStringNotEquals
	opStringEqualsIgnoreCase
	opStringNotEqualsIgnoreCase
	opStringLike
	opStringNotLike
	opNumericEquals
	opNumericNotEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateNotEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opNotIPAddress
	opArnEquals
	opArnLike
	opArnNotEquals
	opArnNotLike
	opNull
)

// baseOps are the operators of IAM reference_policies_elements_condition_
// operators. Names are case-sensitive, as IAM's grammar spells them.
var baseOps = map[string]baseOp{
	"StringEquals": opStringEquals, "StringNotEquals": opStringNotEquals,
	"StringEqualsIgnoreCase": opStringEqualsIgnoreCase, "StringNotEqualsIgnoreCase": opStringNotEqualsIgnoreCase,
	"StringLike": opStringLike, "StringNotLike": opStringNotLike,
	"NumericEquals": opNumericEquals, "NumericNotEquals": opNumericNotEquals,
	"NumericLessThan": opNumericLessThan, "NumericLessThanEquals": opNumericLessThanEquals,
	"NumericGreaterThan": opNumericGreaterThan, "NumericGreaterThanEquals": opNumericGreaterThanEquals,
	"DateEquals": opDateEquals, "DateNotEquals": opDateNotEquals,
	"DateLessThan": opDateLessThan, "DateLessThanEquals": opDateLessThanEquals,
	"DateGreaterThan": opDateGreaterThan, "DateGreaterThanEquals": opDateGreaterThanEquals,
	"Bool": opBool, "BinaryEquals": opBinaryEquals,
	"IpAddress": opIPAddress, "NotIpAddress": opNotIPAddress,
	"ArnEquals": opArnEquals, "ArnLike": opArnLike, "ArnNotEquals": opArnNotEquals, "ArnNotLike": opArnNotLike,
	"Null": opNull,
}

// setQualifier is ForAnyValue: or ForAllValues:.
type setQualifier uint8

const (
	qualNone setQualifier = iota
	qualAny
	qualAll
)

// operator is a parsed operator name such as "ForAllValues:StringLikeIfExists".
type operator struct {
	base     baseOp
	set      setQualifier
	ifExists bool
}

// parseOperator splits a name into its parts; ok is false for a name IAM
// does not know, including NullIfExists (Null already tests existence).
func parseOperator(name string) (operator, bool) {
	var op operator
	switch {
	case strings.HasPrefix(name, "ForAnyValue:"):
		op.set, name = qualAny, strings.TrimPrefix(name, "ForAnyValue:")
	case strings.HasPrefix(name, "ForAllValues:"):
		op.set, name = qualAll, strings.TrimPrefix(name, "ForAllValues:")
	}
	if b, ok := baseOps[name]; ok {
		op.base = b
		return op, true
	}
	if trimmed, found := strings.CutSuffix(name, "IfExists"); found {
		if b, ok := baseOps[trimmed]; ok && b != opNull {
			op.base, op.ifExists = b, true
			return op, true
		}
	}
	return op, false
}

// negated operators hold when the key matches none of the values: "If a
// single negated matching condition operator includes multiple values for
// a context key, those values are evaluated using a logical NOR" (IAM
// reference_policies_multi-value-conditions).
func (b baseOp) negated() bool {
	switch b {
	case opStringNotEquals, opStringNotEqualsIgnoreCase, opStringNotLike, opNumericNotEquals,
		opDateNotEquals, opNotIPAddress, opArnNotEquals, opArnNotLike:
		return true
	}
	return false
}

// takesVariables: "You can use a policy variable for Condition values in
// any condition that involves the string operators or the ARN operators"
// (IAM reference_policies_variables).
func (b baseOp) takesVariables() bool {
	switch b {
	case opStringEquals, opStringNotEquals, opStringEqualsIgnoreCase, opStringNotEqualsIgnoreCase,
		opStringLike, opStringNotLike, opArnEquals, opArnLike, opArnNotEquals, opArnNotLike:
		return true
	}
	return false
}

// conditionHolds evaluates one (operator, key, values) triple. The rules
// for a key the request does not carry (IAM reference_policies_elements_
// condition_operators): "If the key that you specify in a policy condition
// is not present in the request context, the values do not match and the
// condition is false. If the policy condition requires that the key is not
// matched, such as StringNotLike or ArnNotLike, and the right key is not
// present, the condition is true"; …IfExists is true; ForAllValues "also
// returns true if there are no context keys in the request", ForAnyValue is
// false (reference_policies_condition_examples-multi-valued-context-keys).
func conditionHolds(c *Condition, ctx Context, variables bool) bool {
	op, ok := parseOperator(c.Operator)
	if !ok {
		return false // Validate refuses it; an unchecked policy never applies it
	}
	got, present := lookup(ctx, c.Key)
	if op.base == opNull {
		return nullHolds(c.Values, present)
	}
	if !present {
		switch {
		case op.ifExists, op.set == qualAll:
			return true
		case op.set == qualAny:
			return false
		}
		return op.base.negated()
	}
	test := func(v string) bool { return valueHolds(op.base, v, c.Values, ctx, variables) }
	switch op.set {
	case qualAll:
		for _, v := range got {
			if !test(v) {
				return false
			}
		}
		return true
	case qualAny:
		for _, v := range got {
			if test(v) {
				return true
			}
		}
		return false
	}
	// A plain operator on a key with several values: a positive operator
	// holds when any value matches, a negated one when none does. (AWS
	// says to use a set qualifier for such keys; this is the reading that
	// keeps StringNotEquals the negation of StringEquals.)
	if op.base.negated() {
		for _, v := range got {
			if !test(v) {
				return false
			}
		}
		return true
	}
	for _, v := range got {
		if test(v) {
			return true
		}
	}
	return false
}

// nullHolds: "true" holds when the key is absent, "false" when present;
// several values are OR-ed like any other.
func nullHolds(values []string, present bool) bool {
	for _, v := range values {
		if strings.EqualFold(v, "true") && !present || strings.EqualFold(v, "false") && present {
			return true
		}
	}
	return false
}

// valueHolds tests one request value against the policy's values: any of
// them for a positive operator, none of them for a negated one. A policy
// value that cannot be compared (an unresolved variable, a number that is
// not one) fails the test whichever the operator's polarity: IAM says an
// attempt to match an unresolved variable "fails and causes the statement
// to be invalid" (reference_policies_variables), so it never makes a
// condition true.
func valueHolds(b baseOp, v string, policyValues []string, ctx Context, variables bool) bool {
	negated := b.negated()
	for _, pv := range policyValues {
		m, comparable := compare(b, v, pv, ctx, variables)
		if !comparable {
			if negated {
				return false
			}
			continue
		}
		if m && !negated {
			return true
		}
		if m && negated {
			return false
		}
	}
	return negated
}

// compare reports whether request value v matches policy value pv under
// the positive form of b (StringNotEquals compares as StringEquals).
func compare(b baseOp, v, pv string, ctx Context, variables bool) (match, comparable bool) {
	if variables && b.takesVariables() {
		glob := b == opStringLike || b == opStringNotLike || b >= opArnEquals && b <= opArnNotLike
		var ok bool
		if pv, ok = expandVariables(pv, ctx, glob); !ok {
			return false, false
		}
		switch b {
		case opStringLike, opStringNotLike:
			return globMatch(pv, v, escaped), true
		case opArnEquals, opArnLike, opArnNotEquals, opArnNotLike:
			return globMatch(pv, v, arnSegments|escaped), true
		}
	}
	switch b {
	case opStringEquals, opStringNotEquals:
		return v == pv, true
	case opStringEqualsIgnoreCase, opStringNotEqualsIgnoreCase:
		return strings.EqualFold(v, pv), true
	case opStringLike, opStringNotLike:
		return globMatch(pv, v, 0), true
	case opArnEquals, opArnLike, opArnNotEquals, opArnNotLike:
		// "Each of the six colon-delimited components of the ARN is checked
		// separately and each can include a multi-character match wildcard
		// (*) or a single-character match wildcard (?)", for ArnEquals too.
		return globMatch(pv, v, arnSegments), true
	case opNumericEquals, opNumericNotEquals, opNumericLessThan, opNumericLessThanEquals,
		opNumericGreaterThan, opNumericGreaterThanEquals:
		x, ok1 := parseNumber(v)
		y, ok2 := parseNumber(pv)
		if !ok1 || !ok2 {
			return false, false
		}
		return ordered(b, cmpFloat(x, y)), true
	case opDateEquals, opDateNotEquals, opDateLessThan, opDateLessThanEquals,
		opDateGreaterThan, opDateGreaterThanEquals:
		x, ok1 := parseDate(v)
		y, ok2 := parseDate(pv)
		if !ok1 || !ok2 {
			return false, false
		}
		return ordered(b, x.Compare(y)), true
	case opBool:
		return strings.EqualFold(v, pv), true
	case opBinaryEquals:
		// The policy holds base64; the request value is the raw bytes.
		want, err := base64.StdEncoding.DecodeString(pv)
		if err != nil {
			return false, false
		}
		return string(want) == v, true
	case opIPAddress, opNotIPAddress:
		return ipMatch(v, pv)
	}
	return false, false
}

// parseNumber reads a decimal number, the only kind IAM's numeric
// operators take: not hexadecimal, not Inf or NaN as strconv would.
func parseNumber(s string) (float64, bool) {
	if !allOf(s, func(c byte) bool {
		return '0' <= c && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'
	}) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// ordered turns a three-way comparison of request to policy value into the
// operator's answer (NotEquals answers as Equals; the caller negates).
func ordered(b baseOp, c int) bool {
	switch b {
	case opNumericLessThan, opDateLessThan:
		return c < 0
	case opNumericLessThanEquals, opDateLessThanEquals:
		return c <= 0
	case opNumericGreaterThan, opDateGreaterThan:
		return c > 0
	case opNumericGreaterThanEquals, opDateGreaterThanEquals:
		return c >= 0
	}
	return c == 0
}

// ipMatch: the policy value is a CIDR block or a single address, IPv4 or
// IPv6; an IPv4-mapped IPv6 address is its IPv4 address.
func ipMatch(v, pv string) (match, comparable bool) {
	addr, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil {
		return false, false
	}
	addr = addr.Unmap()
	pv = strings.TrimSpace(pv)
	if !strings.Contains(pv, "/") {
		want, err := netip.ParseAddr(pv)
		if err != nil {
			return false, false
		}
		return want.Unmap() == addr, true
	}
	prefix, ok := parsePrefix(pv)
	if !ok {
		return false, false
	}
	return prefix.Contains(addr), true
}

// prefixes keeps the CIDR blocks policies name, parsed: a condition on
// aws:SourceIp is tested on every request.
var (
	prefixes    sync.Map // string -> prefixEntry
	prefixCount atomic.Int64
	prefixBound = int64(4096) // policy variables could make values without end
)

type prefixEntry struct {
	p  netip.Prefix
	ok bool
}

func parsePrefix(pv string) (netip.Prefix, bool) {
	if e, found := prefixes.Load(pv); found {
		return e.(prefixEntry).p, e.(prefixEntry).ok
	}
	prefix, err := netip.ParsePrefix(pv)
	e := prefixEntry{p: prefix, ok: err == nil}
	if e.ok && prefix.Addr().Is4In6() {
		bitsLeft := prefix.Bits() - 96
		if bitsLeft < 0 {
			e.ok = false
		} else {
			e.p = netip.PrefixFrom(prefix.Addr().Unmap(), bitsLeft)
		}
	}
	if prefixCount.Load() < prefixBound {
		if _, loaded := prefixes.LoadOrStore(pv, e); !loaded {
			prefixCount.Add(1)
		}
	}
	return e.p, e.ok
}

// dateLayouts are the ISO 8601 forms IAM accepts for Date operators and
// aws:CurrentTime, most specific first.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02T15",
	"2006-01-02",
	"2006-01",
}

// parseDate reads an ISO 8601 date-time (UTC unless it says otherwise) or
// epoch seconds, the two forms of IAM's date condition values and of
// aws:CurrentTime and aws:EpochTime.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if !strings.ContainsAny(s, "-T:tZz") {
		secs, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(secs, 0).UTC(), true
	}
	upper := strings.ToUpper(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, upper); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
