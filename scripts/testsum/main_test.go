package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummarise(t *testing.T) {
	stream := strings.Join([]string{
		`{"Action":"start","Package":"p/a"}`,
		`{"Action":"run","Package":"p/a","Test":"TestOK"}`,
		`{"Action":"output","Package":"p/a","Test":"TestOK","Output":"quiet\n"}`,
		`{"Action":"pass","Package":"p/a","Test":"TestOK"}`,
		`{"Action":"run","Package":"p/a","Test":"TestBad/sub"}`,
		`{"Action":"output","Package":"p/a","Test":"TestBad/sub","Output":"    bad_test.go:9: want 2, got 3\n"}`,
		`{"Action":"fail","Package":"p/a","Test":"TestBad/sub"}`,
		`{"Action":"fail","Package":"p/a","Test":"TestBad"}`,
		`{"Action":"skip","Package":"p/a","Test":"TestLater"}`,
		`{"Action":"fail","Package":"p/a","Elapsed":1.5}`,
		`{"Action":"skip","Package":"p/none"}`,
		`{"Action":"pass","Package":"p/b","Test":"TestX"}`,
		`{"Action":"pass","Package":"p/b","Elapsed":0.25}`,
		`# p/c`,
	}, "\n")
	var out bytes.Buffer
	c, ok := summarise(strings.NewReader(stream), &out)
	if ok || c != (counts{passed: 2, failed: 2, skipped: 1}) {
		t.Fatalf("%v %+v", ok, c)
	}
	got := out.String()
	for _, want := range []string{"bad_test.go:9: want 2, got 3", "FAIL\tp/a\t1.500s", "?   \tp/none", "ok  \tp/b\t0.250s", "# p/c"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "quiet") {
		t.Errorf("a passing test's output was printed:\n%s", got)
	}
	if _, ok := summarise(strings.NewReader(`{"Action":"pass","Package":"p","Test":"T"}`+"\n"+`{"Action":"pass","Package":"p"}`), &out); !ok {
		t.Fatal("an all-pass run reported a failure")
	}
}
