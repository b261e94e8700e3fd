package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/berth-registry/berth"
)

// signInPage is what the sign-in form shows.
type signInPage struct {
	Token, Next, Reason, KeyID string
}

func (signInPage) title() (string, string) { return "Sign in", "" }

// signInForm shows the sign-in form, with a fresh anti-forgery token in
// a cookie and in the form (a site elsewhere can post neither).
func (c *Console) signInForm(w http.ResponseWriter, r *http.Request) {
	c.showSignIn(w, r, http.StatusOK, signInPage{Next: safeNext(r.URL.Query().Get("next")), Reason: r.URL.Query().Get("reason")})
}

func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, p signInPage) {
	b := make([]byte, 24)
	rand.Read(b)
	p.Token = base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: p.Token, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: 3600})
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, status, "sign-in", nil, p)
}

// signIn checks an access key id and secret as the registry endpoint's
// Basic auth does (the same keys, the same throttle of failures per
// client address) and opens a session for its principal.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.showSignIn(w, r, http.StatusBadRequest, signInPage{Reason: "The form could not be read; try again."})
		return
	}
	keyID, secret := strings.TrimSpace(r.PostForm.Get("accessKeyId")), strings.TrimSpace(r.PostForm.Get("secretAccessKey"))
	p := signInPage{Next: safeNext(r.PostForm.Get("next")), KeyID: keyID}
	ck, err := r.Cookie(signInCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostForm.Get("token"))) != 1 {
		p.Reason = "The sign-in form had expired or came from another site; nothing was done. Sign in again."
		c.showSignIn(w, r, http.StatusForbidden, p)
		return
	}
	if keyID == "" || secret == "" {
		p.Reason = "Enter an access key ID and its secret access key."
		c.showSignIn(w, r, http.StatusBadRequest, p)
		return
	}
	cred, err := c.auth.VerifyBasic(r.Context(), keyID, secret)
	if keyID == "AWS" && err == nil {
		// A registry password is for podman and docker, not for a person.
		err = berth.Errorf(berth.EUnauthenticated, "sign in with an access key")
	}
	if err != nil {
		err = c.auth.Throttle.Failed(r.RemoteAddr, err)
		if berth.IsCode(err, berth.EUnauthenticated) {
			c.reg.Audit(r.Context(), "console sign-in refused", slog.String("key", keyID), slog.String("source", r.RemoteAddr))
			p.Reason = "The access key ID or the secret access key is not right, or the key is inactive."
			c.showSignIn(w, r, http.StatusUnauthorized, p)
			return
		}
		c.fail(w, r, nil, err)
		return
	}
	token, _, err := c.reg.StartConsoleSession(r.Context(), cred.Principal, cred.Role, cred.AccessKeyID)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: "", Path: Prefix, MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	next := p.Next
	if next == "" {
		next = Prefix + "repositories"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext keeps a return address only if it is a console page of this
// host (no open redirect).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, Prefix) || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return ""
	}
	return next
}

// signOut ends the session everywhere (it is a row of the store).
func (c *Console) signOut(v *view) error {
	if ck, err := v.r.Cookie(sessionCookie); err == nil {
		if err := c.reg.EndConsoleSession(v.r.Context(), ck.Value); err != nil {
			return err
		}
	}
	http.SetCookie(v.w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: v.r.TLS != nil})
	return v.redirect(Prefix+"sign-in", url.Values{"reason": {"You have signed out."}})
}
