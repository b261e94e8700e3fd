package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// tlsClient is an ECR client of e that trusts the certificate in caFile.
func (e *env) tlsClient(caFile string) (*ecr.Client, *http.Transport) {
	e.t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		e.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	c := ecr.NewFromConfig(aws.Config{Region: testRegion, Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.NewStaticCredentialsProvider(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: modelChecked{t: e.t, next: tr}}}, func(o *ecr.Options) { o.BaseEndpoint = aws.String(e.url) })
	return c, tr
}

// TestTLSSelfSigned: berth serves HTTPS with the certificate it made, and
// the SDK, the AWS CLI (--ca-bundle), podman and skopeo (the certificate
// trusted, no insecure flag) all work over it; the URLs berth hands out
// say https.
func TestTLSSelfSigned(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.TLSSelfSigned = true })
	if !strings.HasPrefix(e.url, "https://") {
		t.Fatalf("URL %s", e.url)
	}
	ca := filepath.Join(e.dir, "tls", "cert.pem")
	client, _ := e.tlsClient(ca)
	repo := "tls/app"
	must[*ecr.CreateRepositoryOutput](t)(client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}))
	// An image, and a layer's download URL, which must be https.
	e.ecr = client
	img := e.pushImage(repo, "tls", 1)
	if _, err := e.putImage(repo, img.docker(), "v1"); err != nil {
		t.Fatal(err)
	}
	url := must[*ecr.GetDownloadUrlForLayerOutput](t)(client.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(img.layers[0].Digest)}))
	// berth's own URL says https; on S3 it is the object store's presigned
	// URL, in the object store's scheme.
	if strings.Contains(*url.DownloadUrl, e.host()) && !strings.HasPrefix(*url.DownloadUrl, "https://") {
		t.Fatalf("download URL %s", *url.DownloadUrl)
	}

	if awsBin, err := exec.LookPath("aws"); err == nil {
		cmd := exec.Command(awsBin, "ecr", "describe-repositories", "--endpoint-url", e.url, "--ca-bundle", ca, "--output", "json")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+e.srv.Credential.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.srv.Credential.SecretAccessKey,
			"AWS_DEFAULT_REGION="+testRegion, "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_PAGER=")
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), repo) {
			t.Fatalf("aws --ca-bundle: %v\n%s", err, out)
		}
	}
	// podman and skopeo read a directory holding the CA as ca.crt.
	certDir := t.TempDir()
	if b, err := os.ReadFile(ca); err == nil {
		os.WriteFile(filepath.Join(certDir, "ca.crt"), b, 0o644)
	}
	pw := e.loginPassword()
	if bin, err := exec.LookPath("podman"); err == nil {
		dir := t.TempDir()
		podman := podmanIn(t, bin, dir)
		tarball := rootfsTar(t, dir, "rootfs", "hello over TLS")
		ref := e.host() + "/" + repo + ":podman"
		podman(pw, "login", "--username", "AWS", "--password-stdin", "--cert-dir", certDir, e.host())
		podman("", "import", tarball, ref)
		podman("", "push", "--cert-dir", certDir, ref)
		podman("", "rmi", "--all", "--force")
		podman("", "pull", "--cert-dir", certDir, ref)
	}
	if bin, err := exec.LookPath("skopeo"); err == nil {
		out, err := exec.Command(bin, "inspect", "--cert-dir", certDir, "--creds", "AWS:"+pw, "docker://"+e.host()+"/"+repo+":podman").CombinedOutput()
		if err != nil && !strings.Contains(string(out), "manifest unknown") { // podman may be missing
			t.Fatalf("skopeo over TLS: %v\n%s", err, out)
		}
	}
}

// TestTLSRotation: certificate files replaced in place while clients make
// new connections all the time: no request fails, and new connections get
// the new certificate, with no restart.
func TestTLSRotation(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first, firstKey := makeCert(t, "first")
	second, secondKey := makeCert(t, "second")
	os.WriteFile(certFile, first, 0o644)
	os.WriteFile(keyFile, firstKey, 0o600)
	e := startWith(t, func(c *serverConfig) { c.TLSCert, c.TLSKey = certFile, keyFile })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(first)
	pool.AppendCertsFromPEM(second)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	var requests, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(e.url + "/healthz")
				requests.Add(1)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		}()
	}
	// Rotate as the tools do: the certificate, then the key, each renamed
	// into place (between the two, the pair does not match).
	time.Sleep(200 * time.Millisecond) // load before the rotation; not an assertion
	for _, f := range []struct {
		path string
		b    []byte
	}{{certFile, second}, {keyFile, secondKey}} {
		os.WriteFile(f.path+".new", f.b, 0o600)
		os.Rename(f.path+".new", f.path)
	}
	want := fingerprint(t, second)
	for i := 0; ; i++ {
		if fp := servedFingerprint(t, e.host()); fp == want {
			break
		}
		if i == 1000 {
			t.Fatalf("the new certificate is never served: %s, want %s (first %s)", servedFingerprint(t, e.host()), want, fingerprint(t, first))
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // load after it; not an assertion
	close(stop)
	wg.Wait()
	t.Logf("%d requests during the rotation, %d failed", requests.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during the rotation", failed.Load(), requests.Load())
	}
}

// makeCert makes a self-signed certificate for 127.0.0.1.
func makeCert(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func fingerprint(t *testing.T, certPEM []byte) string {
	b, _ := pem.Decode(certPEM)
	return fmt.Sprintf("%x", sha256.Sum256(b.Bytes))
}

// servedFingerprint is the fingerprint of the certificate a new connection
// to host gets.
func servedFingerprint(t *testing.T, host string) string {
	c, err := tls.Dial("tcp", host, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return "error: " + err.Error()
	}
	defer c.Close()
	return fmt.Sprintf("%x", sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw))
}
