package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGuard(t *testing.T) {
	recorded := `## Figures

| figure | unit | berth | distribution | berth/peer |
|---|---|---|---|---|
| Manifest PUT, c=1 | req/s | 634 (632–1095) | 152 (133–198) | 4.17 |
| Manifest PUT, c=32 | req/s | 1861 (1709–2370) | 330 (282–341) | 5.64 |
| Manifest PUT, c=1, p99 | ms | 11.6 (3.04–12.6) | 17.6 (10.4–21.8) | 0.66 |
| Peak RSS over the run | MiB | 38.3 (38.3–38.3) | 107 (107–107) | 0.36 |
| ECR PutImage (SigV4, aws-sdk-go-v2), c=1 | req/s | 463 (385–495) | n/a (no ECR API) | |
| sha256, one core, Go go1.26.8 | MB/s | 1710 (1677–1743) machine ceiling | | |
`
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	os.WriteFile(path, []byte(recorded), 0o644)
	r := &report{}
	add := func(f, unit string, berth, peer float64) {
		r.add(f, unit, "berth", berth)
		r.add(f, unit, "distribution", peer)
	}
	add("Manifest PUT, c=1", "req/s", 400, 100)     // 4.0: within a quarter of 4.17
	add("Manifest PUT, c=32", "req/s", 400, 100)    // 4.0: fell from 5.64 by 29%
	add("Manifest PUT, c=1, p99", "ms", 10, 10)     // 1.0: rose from 0.66 past 0.66/0.75
	add("Peak RSS over the run", "MiB", 40, 100)    // 0.40: within
	add("Blob push, 1 stream, 4 MiB", "MB/s", 1, 1) // not recorded: not compared
	var out strings.Builder
	warned, compared := guard(r, path, &out)
	if compared != 4 || warned != 2 {
		t.Fatalf("compared %d, warned %d:\n%s", compared, warned, out.String())
	}
	for _, want := range []string{"WARNING Manifest PUT, c=32:", "WARNING Manifest PUT, c=1, p99:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "WARNING Manifest PUT, c=1:") || strings.Contains(out.String(), "WARNING Peak RSS") {
		t.Errorf("a warning for a figure within bounds:\n%s", out.String())
	}
	if w, c := guard(r, filepath.Join(t.TempDir(), "none.md"), &out); w != 0 || c != 0 {
		t.Errorf("without recorded results: %d, %d", w, c)
	}
}
