package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/berth-registry/berth"
)

// publicRegistry is a registry and its public one over one store.
func publicRegistry(t *testing.T) (*Registry, *Registry) {
	t.Helper()
	meta, blobs := testStores(t)
	private := New(meta, blobs, Config{ID: "111122223333"})
	public := New(meta.Namespace("public"), blobs, Config{ID: "111122223333", Public: true, DecisionsOf: private})
	t.Cleanup(func() { public.Close(); private.Close(); meta.Close() })
	return private, public
}

// TestPublicLayerLimit: ECR Public takes layers of at most 10,000 MiB, and
// refuses a part that would pass it before writing a byte; private ECR's
// bound is higher.
func TestPublicLayerLimit(t *testing.T) {
	ctx := context.Background()
	private, public := publicRegistry(t)
	for _, r := range []*Registry{private, public} {
		if _, err := r.CreateRepository(ctx, CreateRepositoryInput{Name: "app"}); err != nil {
			t.Fatal(err)
		}
	}
	grown := func(r *Registry) *berth.Upload {
		u, err := r.InitiateLayerUpload(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		// As if the parts before had brought it just under the bound.
		err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
			v, err := tx.GetUpload(ctx, "app", u.ID)
			if err != nil {
				return err
			}
			prev := v.Size
			v.Size = MaxPublicLayer - 1
			return tx.UpdateUpload(ctx, v, prev)
		})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	u := grown(public)
	_, err := public.AppendUpload(ctx, AppendInput{Repository: "app", UploadID: u.ID, Offset: MaxPublicLayer - 1, Length: 2, Body: strings.NewReader("ab"), ECRPart: true})
	if !berth.IsCode(err, berth.ELimitExceeded) || !strings.Contains(berth.ErrorMessage(err), "10000 MiB") {
		t.Fatalf("a part past 10,000 MiB on ECR Public: %v", err)
	}
	if public.maxParts() != MaxPublicParts || private.maxParts() != MaxParts {
		t.Errorf("parts bounds: public %d, private %d", public.maxParts(), private.maxParts())
	}
	if public.RepositoryARN("app") != "arn:aws:ecr-public::111122223333:repository/app" || private.RepositoryARN("app") != "arn:aws:ecr:us-east-1:111122223333:repository/app" {
		t.Errorf("ARNs %s, %s", public.RepositoryARN("app"), private.RepositoryARN("app"))
	}
}
