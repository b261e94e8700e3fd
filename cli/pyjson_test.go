package cli

import "testing"

// TestPyLoads decodes JSON as Python's json.loads does: the answers are
// Python 3.11's (repr() of what it decodes, or its error's text), which
// the AWS CLI prints after "Invalid JSON: ".
func TestPyLoads(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"\"a\nb\"", "", "Invalid control character at: line 1 column 3 (char 2)"},
		{"{nope", "", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{"{\"a\" 1}", "", "Expecting ':' delimiter: line 1 column 6 (char 5)"},
		{"{\"a\": 1 \"b\"}", "", "Expecting ',' delimiter: line 1 column 9 (char 8)"},
		{"[1 2]", "", "Expecting ',' delimiter: line 1 column 4 (char 3)"},
		{"[1,]", "", "Expecting value: line 1 column 4 (char 3)"},
		{"{\"a\":1,}", "", "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"},
		{"", "", "Expecting value: line 1 column 1 (char 0)"},
		{"  ", "", "Expecting value: line 1 column 3 (char 2)"},
		{"\"\\x\"", "", "Invalid \\escape: line 1 column 2 (char 1)"},
		{"\"\\u12\"", "", "Invalid \\uXXXX escape: line 1 column 3 (char 2)"},
		{"\"abc", "", "Unterminated string starting at: line 1 column 1 (char 0)"},
		{"{\"a\":", "", "Expecting value: line 1 column 6 (char 5)"},
		{"1 2", "", "Extra data: line 1 column 3 (char 2)"},
		{"01", "", "Extra data: line 1 column 2 (char 1)"},
		{"[-]", "", "Expecting value: line 1 column 2 (char 1)"},
		{"{\"a\":1}x", "", "Extra data: line 1 column 8 (char 7)"},
		{"NaN", "nan", ""},
		{"[1.]", "", "Expecting ',' delimiter: line 1 column 3 (char 2)"},
		{"{\"a\":\"é\" x}", "", "Expecting ',' delimiter: line 1 column 10 (char 9)"},
		{"tru", "", "Expecting value: line 1 column 1 (char 0)"},
		{"[\n1,\n2 3]", "", "Expecting ',' delimiter: line 3 column 3 (char 7)"},
		{"\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"", "'é😀\\n\\t\"\\\\/'", ""},
		{"{\"b\": 1, \"a\": [true, false, null, -0, 1.50, 1e3, -2.5E-3, \"x\"], \"b\": 2}", "{'b': 2, 'a': [True, False, None, 0, 1.5, 1000.0, -0.0025, 'x']}", ""},
		{" {\"a\" :\t{ } , \"c\":[ ]}\r\n", "{'a': {}, 'c': []}", ""},
		{"-Infinity", "-inf", ""},
		{"[Infinity, -1]", "[inf, -1]", ""},
		{"\"\\u12g4\"", "", "Invalid \\uXXXX escape: line 1 column 3 (char 2)"},
		{"\"\\ud83d\\uzzzz\"", "", "Invalid \\uXXXX escape: line 1 column 9 (char 8)"},
		{"1e", "", "Extra data: line 1 column 2 (char 1)"},
		{"1.e5", "", "Extra data: line 1 column 2 (char 1)"},
		{"-", "", "Expecting value: line 1 column 1 (char 0)"},
		{"{\"a\":1 ,\n\"b\":}", "", "Expecting value: line 2 column 5 (char 13)"},
		{"[1,\n2,\n", "", "Expecting value: line 3 column 1 (char 7)"},
		{"\"a\\", "", "Unterminated string starting at: line 1 column 1 (char 0)"},
		{"{\"\\u0041\": 1}", "{'A': 1}", ""},
		{"123456789012345678901234567890", "123456789012345678901234567890", ""},
		{"[\"a\"]]", "", "Extra data: line 1 column 6 (char 5)"},
		{"{\"a\": \"x\"} // c", "", "Extra data: line 1 column 12 (char 11)"},
	} {
		v, err := pyLoads([]byte(tc.in), false)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %s", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case pyReprValue(v) != tc.want:
			t.Errorf("%q: %s, want %s", tc.in, pyReprValue(v), tc.want)
		}
	}
	// A parameter's JSON is OrderedDicts, --cli-input-json's plain dicts.
	v, _ := pyLoads([]byte(`{"a": {"b": 1}}`), true)
	if got := pyReprValue(v); got != "OrderedDict([('a', OrderedDict([('b', 1)]))])" {
		t.Errorf("odict repr %s", got)
	}
}
