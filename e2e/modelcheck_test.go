package e2e

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/berth-registry/berth/awsproto"
	berthecr "github.com/berth-registry/berth/ecr"
)

// checkedAnswers counts the ECR answers checked against the model, so a
// test can tell that the check ran.
var checkedAnswers atomic.Int64

// modelChecked is the SDK clients' transport in these tests: every
// successful ECR answer is checked against its operation's output shape in
// the model (member names as the model spells them, types, enums, required
// members), so a misspelled or missing output member fails the test that
// got it.
type modelChecked struct {
	t    *testing.T
	next http.RoundTripper
}

func (m modelChecked) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := m.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	target := req.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, berthecr.TargetPrefix)
	op := berthecr.Model.Operations[name]
	if public, isPublic := strings.CutPrefix(target, berthecr.PublicTargetPrefix); isPublic {
		// ECR Public's answers, against its own model.
		name, ok, op = public, true, berthecr.PublicModel.Operations[public]
	}
	if !ok || op == nil {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := awsproto.CheckOutput(op.Output, body); err != nil {
		m.t.Errorf("the %s answer breaks the ECR model: %v\n%s", name, err, body)
	}
	checkedAnswers.Add(1)
	return resp, nil
}

// TestAnswersFollowTheModel: the check above runs, and catches a member
// the model does not have.
func TestAnswersFollowTheModel(t *testing.T) {
	before := checkedAnswers.Load()
	e := start(t)
	e.createRepo("checked")
	if checkedAnswers.Load() == before {
		t.Fatal("no answer was checked")
	}
	out := berthecr.Model.Operations["CreateRepository"].Output
	if err := awsproto.CheckOutput(out, []byte(`{"repository":{"repositoryName":"ab","repositoryUrl":"x"}}`)); err == nil || !strings.Contains(err.Error(), "repository.repositoryUrl") {
		t.Fatalf("a misspelled member passed: %v", err)
	}
}
