package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// BenchmarkVerifySigV4 is the cost of authenticating one ECR API request
// (a BatchGetImage body), which every call pays.
func BenchmarkVerifySigV4(b *testing.B) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	cred := Credential{AccessKeyID: "BKIABENCH", SecretAccessKey: "secret", Principal: "arn:aws:iam::123456789012:root"}
	a := &Authenticator{Keys: StaticKeyring{cred.AccessKeyID: cred}, Region: "us-east-1", Now: func() time.Time { return now }}
	body := []byte(`{"repositoryName":"app","imageIds":[{"imageTag":"t0000042"}]}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:5000/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.BatchGetImage")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "ecr", "us-east-1", now); err != nil {
		b.Fatal(err)
	}
	if _, err := a.VerifySigV4(req, body, "ecr"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.VerifySigV4(req, body, "ecr"); err != nil {
			b.Fatal(err)
		}
	}
}
