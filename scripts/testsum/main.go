// Command testsum reads "go test -json" on its standard input and writes
// what a person wants from it: a line per package as it ends, the output of
// every test that failed (and of packages that did not build), and a last
// line with the counts, "<label>: N passed, M failed, K skipped". It exits
// 1 if anything failed. scripts/test runs every go test through it.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of go test -json (test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// counts are a run's totals, tests and subtests alike.
type counts struct{ passed, failed, skipped int }

func main() {
	summary := flag.String("summary", "", "also append the counts line to this file")
	flag.Parse()
	label := "go test"
	if flag.NArg() > 0 {
		label = flag.Arg(0)
	}
	c, ok := summarise(os.Stdin, os.Stdout)
	line := fmt.Sprintf("%s: %d passed, %d failed, %d skipped\n", label, c.passed, c.failed, c.skipped)
	fmt.Print(line)
	if *summary != "" {
		f, err := os.OpenFile(*summary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(line)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsum:", err)
			ok = false
		}
	}
	if !ok {
		os.Exit(1)
	}
}

// summarise copies the readable part of a go test -json stream from r to w
// and returns the counts, and whether everything passed.
func summarise(r io.Reader, w io.Writer) (counts, bool) {
	var c counts
	ok := true
	// The output of each test (and package) until it ends: printed only if
	// it failed.
	output := map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line) // not JSON: the toolchain's own words
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output", "build-output":
			output[key] = append(output[key], e.Output)
			if e.Action == "build-output" {
				fmt.Fprint(w, e.Output)
			}
		case "build-fail":
			ok = false
		case "pass", "fail", "skip":
			if e.Test == "" {
				ok = ok && e.Action != "fail"
				packageLine(w, e, output[key])
			} else {
				switch e.Action {
				case "pass":
					c.passed++
				case "fail":
					c.failed++
					ok = false
					fmt.Fprint(w, strings.Join(output[key], ""))
				case "skip":
					c.skipped++
				}
			}
			delete(output, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(w, "testsum: reading the test output: %v\n", err)
		ok = false
	}
	return c, ok
}

// packageLine is go test's own line for a package that ended.
func packageLine(w io.Writer, e event, out []string) {
	switch {
	case e.Action == "fail":
		// A package that failed outside any test (a panic in init, a
		// TestMain that exited) has its story in its own output.
		fmt.Fprint(w, strings.Join(out, ""))
		fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
	case e.Action == "skip":
		fmt.Fprintf(w, "?   \t%s\t[no test files]\n", e.Package)
	default:
		fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
	}
}
