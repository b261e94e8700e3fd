// Package console is berth's web console: server-rendered pages under
// /ui/ on the registry's own listener, for a person to see and tend the
// registry. It is a door like ecr/ and oci/: it authenticates (a sign-in
// with an access key, then a session cookie), puts the caller in the
// request's context, asks the registry's one decision point with the same
// IAM actions the ECR API would, and calls the same registry operations.
// Every asset is embedded: the console loads nothing from another host.
package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecr"
	"github.com/berth-registry/berth/registry"
)

// Prefix is where the console is served.
const Prefix = "/ui/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Console serves the console's pages.
type Console struct {
	reg   *registry.Registry
	auth  *auth.Authenticator
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
	// Region is the registry's region, for the AWS CLI commands shown.
	region string
}

// New returns the console of a registry, authenticating sign-ins with
// authn's keys and throttle.
func New(reg *registry.Registry, authn *auth.Authenticator, region string, log *slog.Logger) *Console {
	c := &Console{reg: reg, auth: authn, log: log, region: region, pages: map[string]*template.Template{}}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		c.pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	static, _ := fs.Sub(staticFS, "static")
	m := http.NewServeMux()
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", cacheable(http.FileServerFS(static))))
	m.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"repositories", http.StatusSeeOther)
	})
	m.HandleFunc("GET /ui/sign-in", c.signInForm)
	m.HandleFunc("POST /ui/sign-in", c.signIn)
	m.Handle("POST /ui/sign-out", c.page(c.signOut))
	m.Handle("GET /ui/repositories", c.page(c.repositories))
	m.Handle("POST /ui/repositories", c.page(c.createRepository))
	m.Handle("GET /ui/repository", c.page(c.repository))
	m.Handle("POST /ui/repository/mutability", c.page(c.setMutability))
	m.Handle("GET /ui/image", c.page(c.image))
	m.Handle("GET /ui/manifest", c.page(c.manifestBytes))
	m.Handle("GET /ui/confirm", c.page(c.confirm))
	m.Handle("POST /ui/delete", c.page(c.delete))
	m.Handle("GET /ui/lifecycle", c.page(c.lifecycle))
	m.Handle("POST /ui/lifecycle", c.page(c.saveLifecycle))
	m.Handle("POST /ui/lifecycle/preview", c.page(c.startPreview))
	m.Handle("GET /ui/policy", c.page(c.policy))
	m.Handle("GET /ui/storage", c.page(c.storage))
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", nil, errorPage{Title: "Page not found",
			Message: "There is no console page at " + r.URL.Path + ".", Hint: "Start again from the list of repositories."})
	})
	c.mux = m
	return c
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Everything comes from this host; nothing may frame the console.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

func cacheable(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// Cookie names: the session, and the sign-in form's anti-forgery token.
const (
	sessionCookie = "berth_session"
	signInCookie  = "berth_signin"
)

// view is one signed-in request: its session and what pages need of it.
type view struct {
	w       http.ResponseWriter
	r       *http.Request
	ctx     context.Context // carries the caller
	session *berth.ConsoleSession
	csrf    string
	start   time.Time // when the request arrived (Server-Timing)
}

// page wraps a handler of a signed-in page: it finds the session (or
// sends the browser to sign in), puts its principal in the context as
// the caller, checks the anti-forgery token of a POST, and renders the
// handler's error.
func (c *Console) page(h func(v *view) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		start := time.Now()
		v, err := c.signedIn(w, r)
		if v != nil {
			v.start = start
		}
		if err == nil && r.Method == http.MethodPost {
			err = checkForm(r, v.csrf)
		}
		if err == nil {
			err = h(v)
		}
		if err != nil {
			c.fail(w, r, v, err)
		}
	})
}

// signedIn returns the view of a request with a live session whose
// access key still works.
func (c *Console) signedIn(w http.ResponseWriter, r *http.Request) (*view, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, berth.Errorf(berth.EUnauthenticated, "Sign in to use the console")
	}
	s, err := c.reg.ConsoleSession(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	// A session lasts no longer than the key it was opened with.
	cred, err := c.auth.Keys.Lookup(r.Context(), s.KeyID)
	if berth.IsCode(err, berth.ENotFound) || (err == nil && cred.Principal != s.Principal) {
		c.reg.EndConsoleSession(r.Context(), ck.Value)
		return nil, berth.Errorf(berth.EUnauthenticated, "The access key you signed in with is no longer active; sign in again")
	}
	if err != nil {
		return nil, err
	}
	caller := registry.NewCaller(s.Principal, s.Role, s.KeyID, r.RemoteAddr, r.TLS != nil)
	return &view{w: w, r: r, ctx: registry.WithCaller(r.Context(), caller), session: s, csrf: csrfToken(ck.Value)}, nil
}

// csrfToken is the anti-forgery token of a session: derived from its
// token, which only the browser holds, so no store keeps it and no other
// site can learn it.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte("berth console csrf/"+session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errForged = berth.Errorf(berth.EAccessDenied, "The form did not carry this session's anti-forgery token (it may be from an old page or another site); nothing was changed. Reload the page and try again")

// checkForm refuses a form that does not carry want as its csrf field,
// or that a page of another origin sent.
func checkForm(r *http.Request, want string) error {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return errForged
		}
	}
	if err := r.ParseForm(); err != nil {
		return berth.Errorf(berth.EInvalidParameter, "The form could not be read: %v", err)
	}
	got := r.PostForm.Get("csrf")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errForged
	}
	return nil
}

// errorPage is what the error template shows.
type errorPage struct {
	Title, Exception, Message, Hint string
}

// fail renders err: a sign-in for a request without a session, else an
// error page that names the error as the ECR API would and says what to
// do.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	code := berth.ErrorCode(err)
	var te *auth.ThrottleError
	switch {
	case errors.As(err, &te):
		w.Header().Set("Retry-After", fmt.Sprint(int(te.RetryAfter.Seconds()+0.5)))
		c.render(w, r, http.StatusTooManyRequests, "error", v, errorPage{Title: "Too many failed sign-ins", Message: te.Error()})
		return
	case code == berth.EUnauthenticated || code == berth.ETokenExpired:
		next := ""
		if r.Method == http.MethodGet {
			next = r.URL.RequestURI()
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		q := url.Values{"reason": {berth.ErrorMessage(err)}}
		if next != "" {
			q.Set("next", next)
		}
		http.Redirect(w, r, Prefix+"sign-in?"+q.Encode(), http.StatusSeeOther)
		return
	}
	status, title, hint := http.StatusBadRequest, "The request was refused", "Go back, correct it and try again."
	switch code {
	case berth.EAccessDenied:
		status, title = http.StatusForbidden, "Not allowed"
		hint = "Your identity's policies, the repository's policy or the registry's policy do not allow this. Ask the registry's administrator for access, or sign in as another identity."
		if err == errForged {
			hint = "Reload the page you came from and submit the form again."
		}
	case berth.ERepositoryNotFound, berth.EImageNotFound, berth.ENotFound, berth.ELifecyclePolicyNotFound, berth.ERepositoryPolicyNotFound:
		status, title, hint = http.StatusNotFound, "Not found", "It may have been deleted. Start again from the list of repositories."
	case berth.EInternal, berth.EUnavailable, berth.EInsufficientStorage, "":
		status, title, hint = http.StatusInternalServerError, "The registry could not answer", "Try again in a moment; if it keeps failing, the server's log says why."
		if code == berth.EUnavailable {
			status = http.StatusServiceUnavailable
		}
		c.log.Error("console", "path", r.URL.Path, "err", err)
	}
	msg := berth.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		msg = "Something went wrong on the server."
	}
	c.render(w, r, status, "error", v, errorPage{Title: title, Exception: ecr.ExceptionName(code), Message: msg, Hint: hint})
}

// layoutData is what every page's layout reads.
type layoutData struct {
	Title     string
	Principal string
	CSRF      string
	Nav       string
	Page      any
}

// titled is a page that names itself and its place in the navigation.
type titled interface{ title() (title, nav string) }

// render writes a page with the layout around it.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view, data any) {
	t := c.pages[name]
	d := layoutData{Page: data}
	if v != nil {
		d.Principal, d.CSRF = v.session.Principal, v.csrf
	}
	if p, ok := data.(titled); ok {
		d.Title, d.Nav = p.title()
	} else if e, ok := data.(errorPage); ok {
		d.Title = e.Title
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", d); err != nil {
		c.log.Error("console: rendering", "page", name, "err", err)
		http.Error(w, "The page could not be rendered; the server's log says why.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if v != nil {
		// What the page cost the server, for the browser's developer
		// tools and bench/run --console.
		w.Header().Set("Server-Timing", fmt.Sprintf("app;dur=%.2f", float64(time.Since(v.start).Microseconds())/1000))
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// show renders a signed-in page with status 200.
func (c *Console) show(v *view, name string, data any) error {
	c.render(v.w, v.r, http.StatusOK, name, v, data)
	return nil
}

// redirect sends the browser on after a form (Post/Redirect/Get).
func (v *view) redirect(path string, q url.Values) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	http.Redirect(v.w, v.r, path, http.StatusSeeOther)
	return nil
}

// now is the registry's clock.
func (c *Console) now() time.Time { return c.reg.Now() }
