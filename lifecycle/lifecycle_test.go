package lifecycle

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// daysAgo is "pushed N days ago" in the examples: just under N days, so
// that no image sits on a boundary.
func daysAgo(n int) time.Time { return now.Add(-time.Duration(n)*24*time.Hour + time.Hour) }

// img is an image named by its digest, pushed days ago (plus minutes, for
// images of the same day listed later).
func img(name string, days, minutes int, tags ...string) Image {
	return Image{Digest: name, Tags: tags, PushedAt: daysAgo(days).Add(time.Duration(minutes) * time.Minute)}
}

type rule map[string]any

func policy(rules ...rule) string {
	for i, r := range rules {
		if _, ok := r["rulePriority"]; !ok {
			r["rulePriority"] = i + 1
		}
		if _, ok := r["action"]; !ok {
			r["action"] = map[string]any{"type": "expire"}
		}
	}
	b, _ := json.Marshal(map[string]any{"rules": rules})
	s := string(b)
	if len(s) < MinLength {
		s += strings.Repeat(" ", MinLength-len(s))
	}
	return s
}

func sel(tagStatus string, countType string, n int, extra ...any) rule {
	s := map[string]any{"tagStatus": tagStatus, "countType": countType, "countNumber": n}
	if strings.HasPrefix(countType, "since") {
		s["countUnit"] = "days"
	}
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i].(string)] = extra[i+1]
	}
	return rule{"selection": s}
}

func acted(t *testing.T, text string, images []Image) []string {
	t.Helper()
	p, err := Parse(text, MinLength)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, text)
	}
	var out []string
	for _, a := range Evaluate(p, images, now) {
		s := a.Digest
		if a.Type == ActionTransition {
			s += "→archive"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestDocumentedExamples runs the examples of the ECR user guide
// (ecr-lifecycle.md §7.1), each with tagPatternList and with
// tagPrefixList, as ECR's guide has written them over the years.
func TestDocumentedExamples(t *testing.T) {
	multi := []Image{img("A", 10, 0, "beta-1", "prod-1"), img("B", 9, 0, "beta-2", "prod-2"), img("C", 8, 0, "beta-3")}
	alphaBeta := []Image{img("A", 12, 0, "alpha-1"), img("B", 11, 0, "beta-1"), img("C", 10, 0, "alpha-2", "beta-2"),
		img("D", 4, 0, "alpha-3"), img("E", 3, 0, "beta-3"), img("F", 2, 0, "alpha-4", "beta-4")}
	gamma := []Image{img("A", 10, 0, "alpha-1", "beta-1", "gamma-1"), img("B", 9, 0, "alpha-2", "beta-2"), img("C", 8, 0, "alpha-3", "beta-3", "gamma-2")}
	all := []Image{img("A", 4, 0, "alpha-1"), img("B", 3, 0, "beta-1"), img("C", 2, 0), img("D", 1, 0, "alpha-2")}
	allB := []Image{img("A", 4, 0, "alpha-1", "beta-1"), img("B", 3, 0), img("C", 2, 0, "alpha-2"), img("D", 1, 0, "git-hash"), img("E", 1, 1)}
	for _, form := range []struct {
		list string
		of   func(...string) []string
	}{
		{"tagPatternList", func(p ...string) []string {
			var out []string
			for _, s := range p {
				out = append(out, s+"*")
			}
			return out
		}},
		{"tagPrefixList", func(p ...string) []string { return p }},
	} {
		tagged := func(n int, countType string, prefixes ...string) rule {
			return sel("tagged", countType, n, form.list, form.of(prefixes...))
		}
		for _, c := range []struct {
			name   string
			policy string
			images []Image
			want   string
		}{
			{"E1 multiple rules A", policy(tagged(1, CountMoreThan, "prod"), tagged(1, CountMoreThan, "beta")), multi, "A"},
			{"E2 multiple rules B", policy(tagged(1, CountMoreThan, "beta"), tagged(1, CountMoreThan, "prod")), multi, "A B"},
			{"E3 multiple tags A", policy(tagged(5, SincePushed, "alpha", "beta")), alphaBeta, "C"},
			{"E4 multiple tags B", policy(tagged(1, CountMoreThan, "alpha", "beta")), gamma, "A B"},
			{"E5 all images A", policy(sel("any", CountMoreThan, 1)), all, "A B C"},
			{"E6 all images B", policy(tagged(1, CountMoreThan, "alpha"), sel("untagged", SincePushed, 1), sel("any", CountMoreThan, 1)), allB, "A B D"},
			{"S1 image age", policy(tagged(14, SincePushed, "prod")), []Image{img("prod-1", 20, 0, "prod-1"), img("prod-2", 10, 0, "prod-2"), img("dev-1", 30, 0, "dev-1"), img("U", 30, 0)}, "prod-1"},
			{"S2 image count", policy(sel("untagged", CountMoreThan, 1)), []Image{img("U1", 3, 0), img("U2", 2, 0), img("U3", 1, 0), img("T", 5, 0, "t")}, "U1 U2"},
			{"S5 archive by age", policy(rule{"selection": map[string]any{"tagStatus": "tagged", form.list: form.of("prod"), "countType": SincePushed, "countUnit": "days", "countNumber": 30},
				"action": map[string]any{"type": "transition", "targetStorageClass": "archive"}}),
				[]Image{img("prod-a", 40, 0, "prod-a"), img("prod-b", 10, 0, "prod-b"), img("dev", 90, 0, "dev")}, "prod-a→archive"},
		} {
			t.Run(form.list+"/"+c.name, func(t *testing.T) {
				if got := strings.Join(acted(t, c.policy, c.images), " "); got != c.want {
					t.Errorf("acted on %q, want %q", got, c.want)
				}
			})
		}
	}
}

// TestArchiveExamples: the pull-time and archive examples (§7.2 S3, S4, S7).
func TestArchiveExamples(t *testing.T) {
	transition := map[string]any{"type": "transition", "targetStorageClass": "archive"}
	pulled := func(name string, pushedDays, pulledDays int) Image {
		i := img(name, pushedDays, 0)
		if pulledDays >= 0 {
			i.LastPulledAt = daysAgo(pulledDays)
		}
		return i
	}
	archived := func(name string, days int) Image {
		i := img(name, 900, 0)
		i.StorageClass, i.ArchivedAt = StorageArchive, daysAgo(days)
		return i
	}
	s3 := policy(rule{"selection": map[string]any{"tagStatus": "any", "countType": SincePulled, "countUnit": "days", "countNumber": 90}, "action": transition})
	if got := strings.Join(acted(t, s3, []Image{pulled("P1", 200, 10), pulled("P2", 120, -1), pulled("P3", 200, 100)}), " "); got != "P2→archive P3→archive" {
		t.Errorf("S3: %q", got)
	}
	s4 := policy(rule{"selection": map[string]any{"tagStatus": "any", "storageClass": "archive", "countType": SinceTransitioned, "countUnit": "days", "countNumber": 365}})
	if got := strings.Join(acted(t, s4, []Image{archived("A1", 400), archived("A2", 100), img("S", 900, 0)}), " "); got != "A1" {
		t.Errorf("S4: %q", got)
	}
	s7 := policy(rule{"selection": map[string]any{"tagStatus": "any", "countType": SincePushed, "countUnit": "days", "countNumber": 30}, "action": transition},
		rule{"selection": map[string]any{"tagStatus": "any", "storageClass": "archive", "countType": SinceTransitioned, "countUnit": "days", "countNumber": 365}})
	if got := strings.Join(acted(t, s7, []Image{img("S", 40, 0), archived("A", 400)}), " "); got != "A S→archive" {
		t.Errorf("S7: %q", got)
	}
	// A restored image counts its age from the restore.
	restored := img("R", 400, 0)
	restored.ActivatedAt = daysAgo(5)
	if got := acted(t, policy(sel("any", SincePushed, 30)), []Image{restored}); len(got) != 0 {
		t.Errorf("restored 5 days ago: %v", got)
	}
}

// TestIndexChildren: an image a manifest list names is never acted on,
// though it counts.
func TestIndexChildren(t *testing.T) {
	child := img("child", 10, 0)
	child.InIndex = true
	images := []Image{child, img("idx", 10, 1, "v1"), img("loose", 9, 0), img("new", 1, 0)}
	if got := strings.Join(acted(t, policy(sel("untagged", CountMoreThan, 1)), images), " "); got != "loose" {
		t.Errorf("got %q", got)
	}
}

// TestValidation: what PutLifecyclePolicy refuses, with ECR's texts where
// they are known (ecr-lifecycle.md §3, §7.3).
func TestValidation(t *testing.T) {
	ok := sel("any", CountMoreThan, 1)
	pad := func(s string) string { return s + strings.Repeat(" ", max(0, MinLength-len(s))) }
	for _, c := range []struct {
		name, text, want string
	}{
		{"not JSON", pad("{rules"), "Could not map policyString into LifecyclePolicy.'"},
		{"not an object", pad(`[1,2]`), "Could not map policyString into LifecyclePolicy.'"},
		{"no rules", pad(`{"rulez":[]}`), `object instance has properties which are not allowed by the schema: (["rulez"])'`},
		{"missing rules", pad(`{}`), `object has missing required properties (["rules"])'`},
		{"rule not an object", pad(`{"rules":["x"]}`), `instance type (string) does not match any allowed primitive type (allowed: ["object"])'`},
		{"missing members", pad(`{"rules":[{"description":"d"}]}`), `object has missing required properties (["action","rulePriority","selection"])'`},
		{"unknown member", policy(rule{"selection": ok["selection"], "keep": true}), `object instance has properties which are not allowed by the schema: (["keep"])'`},
		{"bad action", policy(rule{"selection": ok["selection"], "action": map[string]any{"type": "archive"}}), `instance value (archive) not found in enum :(possible values: ["expire", "transition"])'`},
		{"missing action type", policy(rule{"selection": ok["selection"], "action": map[string]any{}}), `object has missing required properties (["type"])'`},
		{"bad tagStatus", policy(sel("unknown", CountMoreThan, 1)), `instance value (unknown) not found in enum :(possible values: ["any", "tagged", "untagged"])'`},
		{"bad countType", policy(sel("any", "imageCountLessThan", 1)), `instance failed to match exactly one schema (matched 0 out of 2)`},
		{"countUnit on a count", policy(sel("any", CountMoreThan, 1, "countUnit", "days")), `instance failed to match exactly one schema (matched 0 out of 2)`},
		{"countUnit null", policy(sel("any", CountMoreThan, 1, "countUnit", nil)), `instance failed to match exactly one schema (matched 0 out of 2)`},
		{"no countUnit on an age", policy(rule{"selection": map[string]any{"tagStatus": "any", "countType": SincePushed, "countNumber": 3}}), `instance failed to match exactly one schema (matched 0 out of 2)`},
		{"bad countUnit", policy(sel("any", SincePushed, 3, "countUnit", "hours")), `instance value (hours) not found in enum :(possible values: ["days"])'`},
		{"countNumber 0", policy(sel("any", CountMoreThan, 0)), `numeric instance is lower than the required minimum (minimum: 1, found: 0)`},
		{"targetStorageClass null on expire", policy(rule{"selection": ok["selection"], "action": map[string]any{"type": "expire", "targetStorageClass": nil}}), `instance failed to match exactly one schema (matched 0 out of 2)`},
		{"same priority", policy(rule{"rulePriority": 1, "selection": sel("untagged", CountMoreThan, 1)["selection"]}, rule{"rulePriority": 1, "selection": ok["selection"]}), "rulePriority 1 is given to more than one rule"},
		{"any not last", policy(ok, sel("untagged", CountMoreThan, 1)), "Rule for tagStatus=ANY must have the lowest priority per storage class"},
		{"tagged without a list", policy(sel("tagged", CountMoreThan, 1)), "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."},
		{"tagged with an empty list", policy(sel("tagged", CountMoreThan, 1, "tagPrefixList", []string{})), "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."},
		{"tagged with both lists", policy(sel("tagged", CountMoreThan, 1, "tagPrefixList", []string{"a"}, "tagPatternList", []string{"b*"})), "not both"},
		{"untagged with a list", policy(sel("untagged", CountMoreThan, 1, "tagPrefixList", []string{"a"})), "can only be used with tagStatus=TAGGED"},
		{"five wildcards", policy(sel("tagged", CountMoreThan, 1, "tagPatternList", []string{"test*1*2*3*4*5*6"})), "at most 4"},
		{"two untagged rules", policy(sel("untagged", CountMoreThan, 1), sel("untagged", SincePushed, 3)), "Only one rule can select Untagged images per storage class"},
		{"same prefixes twice", policy(sel("tagged", CountMoreThan, 1, "tagPrefixList", []string{"a", "b"}), sel("tagged", SincePushed, 1, "tagPrefixList", []string{"b", "a"})), "select the same tags"},
		{"sinceImagePulled expire", policy(sel("any", SincePulled, 30)), "sinceImagePulled can only be used with action type transition"},
		{"sinceImageTransitioned transition", policy(rule{"selection": sel("any", SinceTransitioned, 100, "storageClass", "archive")["selection"], "action": map[string]any{"type": "transition", "targetStorageClass": "archive"}}), "can only be used with action type expire"},
		{"sinceImageTransitioned standard", policy(sel("any", SinceTransitioned, 100)), "requires storageClass archive"},
		{"archive with a count", policy(sel("any", CountMoreThan, 1, "storageClass", "archive")), "storageClass archive can only be used with countType sinceImageTransitioned"},
		{"archive shorter than 90 days", policy(sel("any", SinceTransitioned, 30, "storageClass", "archive")), "minimum storage duration of 90 days"},
		{"51 rules", func() string {
			var rs []rule
			for i := 0; i < 51; i++ {
				rs = append(rs, sel("tagged", CountMoreThan, 1, "tagPrefixList", []string{fmt.Sprint("p", i)}))
			}
			return policy(rs...)
		}(), "at most 50"},
		{"too short", `{"rules":[]}`, "Member must have length between 100 and 30720', got 12 characters"},
		{"too long", policy(rule{"description": strings.Repeat("d", MaxLength), "selection": ok["selection"]}), "Member must have length between 100 and 30720"},
		{"no rules at all", pad(`{"rules":[]}`), "the policy has no rules"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.text, MinLength)
			if err == nil {
				t.Fatalf("accepted:\n%s", c.text)
			}
			if !strings.HasPrefix(err.Error(), "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: '") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, c.want)
			}
			if strings.Contains(c.want, "'") && !strings.HasSuffix(err.Error(), c.want) {
				t.Fatalf("error %q\nwant it to end %q", err, c.want)
			}
		})
	}
}

// TestStoredText: ECR stores the text minified, keys in the order sent.
func TestStoredText(t *testing.T) {
	text := `{
  "rules": [
    {
      "rulePriority": 1,
      "description": "Expire images older than 14 days",
      "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
      "action": {"type": "expire"}
    }
  ]
}`
	p, err := Parse(text, MinLength)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rules":[{"rulePriority":1,"description":"Expire images older than 14 days","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`
	if p.Text != want {
		t.Fatalf("stored %s\nwant   %s", p.Text, want)
	}
	// The documented valid wildcard examples.
	if _, err := Parse(policy(sel("tagged", CountMoreThan, 1, "tagPatternList", []string{"*test*1*2*3", "test*1*2*3*"})), MinLength); err != nil {
		t.Fatal(err)
	}
	// The two-any example of the archive guide: one per storage class.
	if _, err := Parse(policy(sel("any", SincePushed, 30), sel("any", SinceTransitioned, 365, "storageClass", "archive")), MinLength); err != nil {
		t.Fatal(err)
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"prod*", "prod", true}, {"prod*", "prod1", true}, {"prod*", "production-team1", true}, {"prod*", "xprod", false},
		{"*prod*", "repo-production", true}, {"*prod*", "prod-team", true}, {"*prod*", "pro", false},
		{"v1", "v1", true}, {"v1", "v10", false}, {"Prod*", "prod", false},
		{"*test*1*2*3", "my-test-1-2-3", true}, {"*test*1*2*3", "test123", true}, {"*test*1*2*3", "test1234", false},
		{"a*a", "a", false}, {"a*a", "aa", true}, {"*", "", true},
	} {
		if got := Glob(c.pattern, c.s); got != c.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

// BenchmarkEvaluate10k evaluates a four-rule policy over a repository of
// 10,000 images (bench/RESULTS.md records the figure; the target is under
// a second).
func BenchmarkEvaluate10k(b *testing.B) {
	p, err := Parse(policy(sel("tagged", CountMoreThan, 100, "tagPatternList", []string{"release-*"}), sel("tagged", SincePushed, 30, "tagPrefixList", []string{"pr-"}),
		sel("untagged", SincePushed, 7), sel("any", CountMoreThan, 5000)), MinLength)
	if err != nil {
		b.Fatal(err)
	}
	var images []Image
	for i := 0; i < 10000; i++ {
		var tags []string
		switch i % 4 {
		case 0:
			tags = []string{fmt.Sprint("release-", i), "latest-" + fmt.Sprint(i%7)}
		case 1:
			tags = []string{fmt.Sprint("pr-", i)}
		case 2:
			tags = []string{fmt.Sprint("sha-", i)}
		}
		images = append(images, Image{Digest: fmt.Sprintf("sha256:%064x", i), Tags: tags, PushedAt: now.Add(-time.Duration(i) * time.Hour)})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(Evaluate(p, images, now)) == 0 {
			b.Fatal("nothing acted on")
		}
	}
}
