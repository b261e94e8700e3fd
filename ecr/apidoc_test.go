package ecr

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/berth-registry/berth/awsproto"
	"github.com/berth-registry/berth/models"
)

var update = flag.Bool("update", false, "rewrite docs/api.md from the models")

// TestAPIDoc keeps docs/api.md what the models and the served operations
// make it: go test ./ecr -run TestAPIDoc -update rewrites it.
func TestAPIDoc(t *testing.T) {
	want := apiDoc(t)
	const path = "../docs/api.md"
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("docs/api.md is not current (%v): run go test ./ecr -run TestAPIDoc -update", err)
	}
}

func apiDoc(t *testing.T) string {
	served := newTestServer(t).ops
	public := map[string]bool{}
	for _, op := range PublicServed() {
		public[op] = true
	}
	var b strings.Builder
	b.WriteString("# The AWS APIs berth serves\n\n")
	b.WriteString("Generated from the models in `models/` by `go test ./ecr -run TestAPIDoc -update`; a test keeps it current.\n")
	b.WriteString("Every request to a served operation is checked against its model first: member names, types, lengths,\n")
	b.WriteString("patterns, enums and ranges, with AWS's error texts (`InvalidParameterException`, `SerializationException`).\n")
	b.WriteString("An operation the model has and berth does not serve is answered `UnsupportedOperationException`,\n")
	b.WriteString("naming it; a target the model does not have, `UnknownOperationException`. The wire rules and their\n")
	b.WriteString("sources are in [wire.md](wire.md).\n")
	for _, svc := range []struct {
		title, file, ref string
		data             []byte
		served           func(string) bool
	}{
		{"Amazon ECR (`aws ecr`)", "models/ecr-2015-09-21.json", "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_%s.html", models.ECR,
			func(op string) bool { return served[op] != nil }},
		{"Amazon ECR Public (`aws ecr-public`)", "models/ecr-public-2020-10-30.json", "https://docs.aws.amazon.com/AmazonECRPublic/latest/APIReference/API_%s.html", models.ECRPublic,
			func(op string) bool { return public[op] }},
	} {
		m, err := awsproto.Load(svc.data)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, op := range m.OperationNames() {
			if svc.served(op) {
				n++
			}
		}
		fmt.Fprintf(&b, "\n## %s\n\nModel `%s`, API version %s, target prefix `%s`: %d operations, %d served.\n\n", svc.title, svc.file, m.Metadata.APIVersion, m.Metadata.TargetPrefix, len(m.Operations), n)
		b.WriteString("| operation (AWS's reference) | served |\n|---|---|\n")
		for _, op := range m.OperationNames() {
			mark := "no"
			if svc.served(op) {
				mark = "**yes**"
			}
			fmt.Fprintf(&b, "| [%s](%s) | %s |\n", op, fmt.Sprintf(svc.ref, op), mark)
		}
	}
	return b.String()
}
