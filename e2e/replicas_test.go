package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// replicas starts two berth processes' worth of servers on different
// loopback ports over one PostgreSQL database and one S3 prefix.
func replicas(t *testing.T) (*env, *env) { return replicasWith(t, nil) }

// replicasWith starts two replicas with a changed configuration.
func replicasWith(t *testing.T, change func(*serverConfig)) (*env, *env) {
	if !scaleOut() {
		t.Skip("needs the scale-out backends (BERTH_E2E_BACKEND=scaleout, as scripts/test runs it)")
	}
	dir := t.TempDir()
	shared := func(c *serverConfig) {
		c.AccessKeyID, c.SecretAccessKey = "BKIAREPLICATEST00000", "replica-secret"
		if change != nil {
			change(c)
		}
	}
	a := startConfigured(t, dir, shared)
	b := startConfigured(t, dir, shared)
	if a.url == b.url {
		t.Fatal("replicas share a port")
	}
	return a, b
}

func TestReplicasPushPull(t *testing.T) {
	a, b := replicas(t)
	a.createRepo("fleet/app")
	idx, _ := random.Index(3<<20, 2, 2) // layers larger than one S3 part
	ref := func(e *env) name.Reference {
		return must[name.Reference](t)(name.ParseReference(e.ref("fleet/app:v1"), name.Insecure))
	}
	if err := remote.WriteIndex(ref(a), idx, a.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	// Pulled through the other replica, with a password from the first.
	got, err := remote.Index(ref(b), a.remoteOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := idx.RawManifest()
	raw, _ := got.RawManifest()
	if !bytes.Equal(raw, want) {
		t.Fatal("index differs between replicas")
	}
	checkLayers(t, got) // through the other replica
	// Pagination tokens work on any replica.
	for i := 0; i < 3; i++ {
		a.createRepo(fmt.Sprintf("fleet/page-%d", i))
	}
	first := must[*ecr.DescribeRepositoriesOutput](t)(a.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(2)}))
	second := must[*ecr.DescribeRepositoriesOutput](t)(b.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(2), NextToken: first.NextToken}))
	if len(second.Repositories) != 2 || *second.Repositories[0].RepositoryName == *first.Repositories[1].RepositoryName {
		t.Fatalf("second page from the other replica: %+v", second.Repositories)
	}
}

// TestReplicasUploadMoves sends the chunks of one upload to alternating
// replicas, through both APIs.
func TestReplicasUploadMoves(t *testing.T) {
	a, b := replicas(t)
	a.createRepo("moves")
	data := randomBytes(19 << 20)
	pw := a.loginPassword()
	do := func(e *env, method, path string, body []byte, hdr ...string) *http.Response {
		t.Helper()
		req := must[*http.Request](t)(http.NewRequest(method, e.url+path, bytes.NewReader(body)))
		req.SetBasicAuth("AWS", pw)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, _ := e.raw(req)
		return resp
	}
	resp := do(a, "POST", "/v2/moves/blobs/uploads/", nil)
	loc := resp.Header.Get("Location")
	cuts := []int{0, 6 << 20, 9<<20 + 7, 17 << 20, len(data)}
	for i := 0; i+1 < len(cuts); i++ {
		e := []*env{a, b}[i%2]
		resp = do(e, "PATCH", loc, data[cuts[i]:cuts[i+1]], "Content-Range", fmt.Sprintf("%d-%d", cuts[i], cuts[i+1]-1))
		if resp.StatusCode != 202 {
			t.Fatalf("chunk %d on replica %d: %d", i, i%2, resp.StatusCode)
		}
	}
	if resp = do(b, "PUT", loc+"?digest="+digestOf(data), nil); resp.StatusCode != 201 {
		t.Fatalf("finish on the other replica: %d", resp.StatusCode)
	}
	req := must[*http.Request](t)(http.NewRequest("GET", a.url+"/v2/moves/blobs/"+digestOf(data), nil))
	req.SetBasicAuth("AWS", pw)
	_, body := a.raw(req)
	if !bytes.Equal(body, data) {
		t.Fatal("blob assembled across replicas differs")
	}

	// The ECR calls: parts alternate, completion on the other replica.
	layer := randomBytes(25 << 20)
	id := a.initiate("moves")
	for i, off := 0, 0; off < len(layer); i, off = i+1, off+10<<20 {
		e := []*env{a, b}[i%2]
		end := min(off+10<<20, len(layer))
		must[*ecr.UploadLayerPartOutput](t)(e.part("moves", id, int64(off), layer[off:end]))
	}
	out := must[*ecr.CompleteLayerUploadOutput](t)(b.complete("moves", id, digestOf(layer)))
	if *out.LayerDigest != digestOf(layer) {
		t.Fatal("digest")
	}
}

// TestReplicasTagRace pushes different manifests under one tag through
// both replicas at once, many times.
func TestReplicasTagRace(t *testing.T) {
	a, b := replicas(t)
	for _, m := range []types.ImageTagMutability{types.ImageTagMutabilityImmutable, types.ImageTagMutabilityMutable} {
		repo := "race-" + strings.ToLower(string(m))
		a.createRepo(repo, func(in *ecr.CreateRepositoryInput) { in.ImageTagMutability = m })
		for round := 0; round < 15; round++ {
			tag := fmt.Sprintf("r%d", round)
			ma := a.pushImage(repo, "a"+tag, 1).docker()
			mb := b.pushImage(repo, "b"+tag, 1).docker()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, p := range []struct {
				e *env
				m string
			}{{a, ma}, {b, mb}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = p.e.putImage(repo, p.m, tag)
				}()
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				var api smithy.APIError
				switch {
				case err == nil:
					wins++
				case m == types.ImageTagMutabilityImmutable && errors.As(err, &api) && api.ErrorCode() == "ImageTagAlreadyExistsException":
				default:
					t.Fatalf("%s round %d: %v", m, round, err)
				}
			}
			if m == types.ImageTagMutabilityImmutable && wins != 1 {
				t.Fatalf("immutable round %d: %d winners", round, wins)
			}
			if m == types.ImageTagMutabilityMutable && wins != 2 {
				t.Fatalf("mutable round %d: %d winners", round, wins)
			}
			// The tag names exactly one of them; a pushed loser stays, untagged.
			holder := must[*ecr.DescribeImagesOutput](t)(b.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: &repo, ImageIds: ids(tag)})).ImageDetails[0]
			da, db := digestOf([]byte(ma)), digestOf([]byte(mb))
			if *holder.ImageDigest != da && *holder.ImageDigest != db {
				t.Fatalf("tag on %s", *holder.ImageDigest)
			}
			if m == types.ImageTagMutabilityMutable {
				loser := da
				if *holder.ImageDigest == da {
					loser = db
				}
				if tags := a.tagsOf(repo, loser); len(tags) != 0 {
					t.Fatalf("loser still tagged %v", tags)
				}
			}
		}
	}
}

// TestReplicasIAM: a user made on one replica signs in on the other at
// once, and a policy detached on one stops the next request on the other
// (here --iam-refresh is a nanosecond: every request asks the store).
func TestReplicasIAM(t *testing.T) {
	a, b := replicasWith(t, func(c *serverConfig) { c.IAMRefresh = 1 })
	a.createRepo("fleet/iam")
	ia := &access{env: a, iam: a.iamClient(a.srv.Credential.AccessKeyID, a.srv.Credential.SecretAccessKey, "")}
	ci := ia.newUser(t, ia.iam, "ci", []string{managedARN + "AmazonEC2ContainerRegistryReadOnly"}, nil)
	onB := b.client(ci.id, ci.key)
	if _, err := onB.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("fleet/iam")}); err != nil {
		t.Fatalf("the new user on the other replica: %v", err)
	}
	must[*iam.DetachUserPolicyOutput](t)(ia.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("ci"),
		PolicyArn: aws.String(managedARN + "AmazonEC2ContainerRegistryReadOnly")}))
	_, err := onB.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("fleet/iam")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("after the detach, on the other replica: %v", err)
	}
}
