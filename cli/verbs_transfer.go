package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// refNameAnnotation names an image of an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// isTarball reports whether a push source or pull destination is a
// docker-archive tarball rather than an OCI layout directory: an existing
// regular file, or a path ending in .tar.
func isTarball(path string) bool {
	if fi, err := os.Stat(path); err == nil {
		return fi.Mode().IsRegular()
	}
	return strings.HasSuffix(path, ".tar")
}

// transfer is what push and pull share: the reference, and the options
// that reach and authenticate to the registry.
type transfer struct {
	ref  name.Reference
	opts []remote.Option
	rt   http.RoundTripper
}

func (m *Main) transfer(ctx context.Context, a *verbArgs, refArg string, pulling bool) (*transfer, error) {
	var nameOpts []name.Option
	if a.insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.ParseReference(refArg, nameOpts...)
	if err != nil {
		return nil, usagef("argument REF: %v", err)
	}
	rt, err := m.registryTransport()
	if err != nil {
		return nil, err
	}
	var auth authn.Authenticator = authn.Anonymous
	// The public endpoint serves pulls to anyone: a pull from it needs
	// no credentials, so it makes no call. Anything else takes a token
	// of the API, whose password the registry exchanges at its token
	// endpoint (the public one) or takes as Basic (the private one).
	if !(a.public && pulling) {
		c, err := m.api(verbService(a), a)
		if err != nil {
			return nil, err
		}
		user, password, _, err := c.token(ctx)
		if err != nil {
			return nil, err
		}
		auth = &authn.Basic{Username: user, Password: password}
	}
	return &transfer{ref: ref, rt: rt, opts: []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth)}}, nil
}

// registryTransport is remote's default transport, trusting AWS_CA_BUNDLE
// too when it is set (as the API calls do).
func (m *Main) registryTransport() (http.RoundTripper, error) {
	bundle := m.getenv("AWS_CA_BUNDLE")
	if bundle == "" {
		return remote.DefaultTransport, nil
	}
	pem, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %v", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %s holds no PEM certificate", bundle)
	}
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool}
	return t, nil
}

// ---- push ----

func (m *Main) push(ctx context.Context, a *verbArgs) error {
	if len(a.pos) != 2 {
		return usagef("push takes a source and a reference: %s", verbUsages["push"])
	}
	src, refArg := a.pos[0], a.pos[1]
	if _, err := os.Stat(src); err != nil {
		return usagef("argument LAYOUT_DIR|TARBALL: %v", err)
	}
	t, err := m.transfer(ctx, a, refArg, false)
	if err != nil {
		return err
	}
	var img v1.Image
	var idx v1.ImageIndex
	if isTarball(src) {
		if img, err = tarball.ImageFromPath(src, nil); err != nil {
			return fmt.Errorf("reading %s: %v", src, err)
		}
	} else if img, idx, err = fromLayout(src, t.ref); err != nil {
		return err
	}
	bar := m.newProgress("pushing")
	opts := append(t.opts, remote.WithTransport(t.rt))
	var digest v1.Hash
	if bar != nil {
		updates := make(chan v1.Update, 64)
		opts = append(opts, remote.WithProgress(updates))
		go bar.follow(updates)
	}
	if idx != nil {
		err = remote.WriteIndex(t.ref, idx, opts...)
		if err == nil {
			digest, err = idx.Digest()
		}
	} else {
		err = remote.Write(t.ref, img, opts...)
		if err == nil {
			digest, err = img.Digest()
		}
	}
	bar.finish()
	if err != nil {
		return fmt.Errorf("pushing %s: %v", t.ref, err)
	}
	fmt.Fprintf(m.Stdout, "%s %s\n", t.ref, digest)
	return nil
}

// fromLayout picks the image (or index) of an OCI layout to push: its
// only one, else the one whose ref.name annotation is the reference's tag
// or whole name.
func fromLayout(dir string, ref name.Reference) (v1.Image, v1.ImageIndex, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the OCI layout %s: %v", dir, err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the OCI layout %s: %v", dir, err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the OCI layout %s: %v", dir, err)
	}
	var chosen *v1.Descriptor
	if len(im.Manifests) == 1 {
		chosen = &im.Manifests[0]
	} else {
		for i, d := range im.Manifests {
			if n := d.Annotations[refNameAnnotation]; n != "" && (n == ref.Identifier() || n == ref.Name()) {
				chosen = &im.Manifests[i]
			}
		}
	}
	if chosen == nil {
		return nil, nil, fmt.Errorf("the OCI layout %s holds %d images, none named %q (annotation %s)", dir, len(im.Manifests), ref.Identifier(), refNameAnnotation)
	}
	if chosen.MediaType.IsIndex() {
		idx, err := ii.ImageIndex(chosen.Digest)
		return nil, idx, err
	}
	img, err := ii.Image(chosen.Digest)
	return img, nil, err
}

// ---- pull ----

func (m *Main) pull(ctx context.Context, a *verbArgs) error {
	if len(a.pos) != 2 {
		return usagef("pull takes a reference and a destination: %s", verbUsages["pull"])
	}
	refArg, dest := a.pos[0], a.pos[1]
	t, err := m.transfer(ctx, a, refArg, true)
	if err != nil {
		return err
	}
	bar := m.newProgress("pulling")
	rt := t.rt
	if bar != nil {
		rt = &countingTransport{next: rt, bar: bar}
	}
	opts := append(t.opts, remote.WithTransport(rt))
	desc, err := remote.Get(t.ref, opts...)
	if err != nil {
		bar.finish()
		return fmt.Errorf("pulling %s: %v", t.ref, err)
	}
	digest := desc.Digest
	if isTarball(dest) {
		err = func() error {
			img, err := desc.Image() // an index: the platform's image
			if err != nil {
				return err
			}
			if digest, err = img.Digest(); err != nil {
				return err
			}
			bar.addTotal(imageSize(img))
			return tarball.WriteToFile(dest, t.ref, img)
		}()
	} else {
		err = toLayout(dest, desc, t.ref, bar)
	}
	bar.finish()
	if err != nil {
		return fmt.Errorf("pulling %s into %s: %v", t.ref, dest, err)
	}
	fmt.Fprintf(m.Stdout, "%s %s\n", t.ref, digest)
	return nil
}

// toLayout writes a pulled image or index into an OCI layout, creating it
// if need be and replacing an image of the same tag.
func toLayout(dir string, desc *remote.Descriptor, ref name.Reference, bar *progress) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return err
		}
	}
	var opts []layout.Option
	matcher := match.Digests(desc.Digest)
	if tag, ok := ref.(name.Tag); ok {
		opts = append(opts, layout.WithAnnotations(map[string]string{refNameAnnotation: tag.TagStr()}))
		matcher = match.Annotation(refNameAnnotation, tag.TagStr())
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return err
		}
		return p.ReplaceIndex(idx, matcher, opts...)
	}
	img, err := desc.Image()
	if err != nil {
		return err
	}
	bar.addTotal(imageSize(img))
	return p.ReplaceImage(img, matcher, opts...)
}

// imageSize is the bytes of an image's config and layers.
func imageSize(img v1.Image) int64 {
	m, err := img.Manifest()
	if err != nil {
		return 0
	}
	n := m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

// ---- progress ----

// progress draws a bar of bytes transferred on a terminal, a few times a
// second. A nil *progress draws nothing.
type progress struct {
	w            io.Writer
	verb         string
	total, done  atomic.Int64
	stop, exited chan struct{}
	once         sync.Once
}

// newProgress starts a bar when stdout is a terminal, else returns nil.
func (m *Main) newProgress(verb string) *progress {
	if !isTerminal(m.Stdout) {
		return nil
	}
	p := &progress{w: m.Stdout, verb: verb, stop: make(chan struct{}), exited: make(chan struct{})}
	go p.run()
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

func (p *progress) run() {
	defer close(p.exited)
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			fmt.Fprintf(p.w, "\r%s\n", p.line())
			return
		case <-tick.C:
			fmt.Fprintf(p.w, "\r%s", p.line())
		}
	}
}

// line is the bar: "pushing [=====>     ]  52%  1.2MB/2.3MB".
func (p *progress) line() string {
	done, total := p.done.Load(), p.total.Load()
	if total <= 0 {
		return fmt.Sprintf("%s %s", p.verb, humanSize(done))
	}
	return progressLine(p.verb, done, total)
}

func progressLine(verb string, done, total int64) string {
	const width = 30
	done = min(done, total)
	filled := int(done * width / total)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("%s [%s] %3d%%  %s/%s", verb, bar, done*100/total, humanSize(done), humanSize(total))
}

// follow reads remote's updates until it closes the channel.
func (p *progress) follow(updates <-chan v1.Update) {
	for u := range updates {
		if u.Total > 0 {
			p.total.Store(u.Total)
		}
		p.done.Store(u.Complete)
	}
}

func (p *progress) addTotal(n int64) {
	if p != nil {
		p.total.Add(n)
	}
}

func (p *progress) finish() {
	if p == nil {
		return
	}
	p.once.Do(func() { close(p.stop) })
	<-p.exited
}

// countingTransport counts the bytes of the blobs it downloads.
type countingTransport struct {
	next http.RoundTripper
	bar  *progress
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
		resp.Body = &countingBody{ReadCloser: resp.Body, bar: c.bar}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	bar *progress
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.bar.done.Add(int64(n))
	return n, err
}
