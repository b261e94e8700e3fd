package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// The regression guard: bench/run --quick, which CI runs, compares each
// ratio it measured with the ratio of the same figure in the last
// recorded results, and warns of one that fell by more than a quarter.
// It warns and never fails: a quick run on a shared machine is noisy, and
// its small sizes name other figures than the full run's (only figures
// of the same name are compared).

// guardDrop is how far a ratio may fall before the guard warns.
const guardDrop = 0.25

// recordedRatios reads the berth/peer column of a results file's
// "Figures" table, with each figure's unit.
func recordedRatios(text string) map[string][2]string {
	out := map[string][2]string{}
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, "|")
		// "| figure | unit | berth | peer | ratio |" splits into 7.
		if len(cells) != 7 {
			continue
		}
		figure, unit, ratio := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[5])
		if _, err := strconv.ParseFloat(ratio, 64); err == nil && figure != "" {
			out[figure] = [2]string{unit, ratio}
		}
	}
	return out
}

// lowerIsBetter reports whether a smaller value of a figure in unit is
// the better one (times, sizes), so that its ratio to the peer rising is
// the regression.
func lowerIsBetter(unit string) bool {
	return unit == "ms" || unit == "MiB" || unit == "s"
}

// guard writes a warning to w for each figure of r whose ratio to the
// peer fell by more than guardDrop from the one recorded in path; it
// returns how many it warned of and how many it compared.
func guard(r *report, path string, w io.Writer) (warned, compared int) {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(w, "regression guard: no recorded results to compare with (%v)\n", err)
		return 0, 0
	}
	recorded := recordedRatios(string(b))
	for _, f := range r.order {
		rec, ok := recorded[f]
		if !ok || rec[0] == "cores" { // where the CPU went: no better or worse
			continue
		}
		peer := r.med(f, "distribution")
		if peer == 0 {
			continue
		}
		now := r.med(f, "berth") / peer
		was, _ := strconv.ParseFloat(rec[1], 64)
		if was == 0 {
			continue
		}
		compared++
		fell := now < was*(1-guardDrop)
		if lowerIsBetter(rec[0]) {
			fell = now > was/(1-guardDrop)
		}
		if fell {
			warned++
			fmt.Fprintf(w, "regression guard: WARNING %s: berth/peer %.2f, recorded %.2f in %s (a fall of more than %.0f%%; a quick run is noisy: confirm with bench/run)\n",
				f, now, was, path, guardDrop*100)
		}
	}
	fmt.Fprintf(w, "regression guard: %d figure(s) compared with %s, %d warning(s)\n", compared, path, warned)
	return warned, compared
}
