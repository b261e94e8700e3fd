package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecr"
	"github.com/berth-registry/berth/oci"
	"github.com/berth-registry/berth/registry"
)

// publicRegistry makes the public registry (ECR Public) over the store's
// "public" namespace, sharing the blobs and the IAM decisions of the
// private one, and returns the ECR Public API over it.
func (m *Server) publicRegistry(ctx context.Context, c Config, meta berth.MetaStore, blobs berth.BlobStore, private *registry.Registry,
	a *auth.Authenticator, secretsKey []byte) (*ecr.Server, error) {
	// Anonymous tokens are signed with a key derived from the secrets key,
	// which replicas share.
	k := hmac.New(sha256.New, secretsKey)
	k.Write([]byte("berth anonymous tokens"))
	a.AnonymousKey = k.Sum(nil)
	ns, ok := meta.(berth.Namespaces)
	if !ok {
		return nil, fmt.Errorf("the metadata store keeps no namespaces: no public registry")
	}
	pub := registry.New(ns.Namespace("public"), blobs, registry.Config{ID: c.RegistryID, Log: m.log, Now: m.Now, GC: c.GC.Registry(),
		Region: c.Region, SecretsKey: secretsKey, IAMRefresh: c.IAMRefresh, Public: true, DecisionsOf: private,
		OnDeny: m.metrics.denied, OnAudit: m.metrics.audited})
	alias, err := pub.EnsureAlias(ctx, c.PublicAlias)
	if err != nil {
		return nil, fmt.Errorf("the public registry's alias: %w", err)
	}
	host := c.PublicAddr
	if c.PublicAddr != "" {
		ln, err := net.Listen("tcp", c.PublicAddr)
		if err != nil {
			return nil, fmt.Errorf("public registry endpoint: listen on %s: %w (choose another --public-addr, or turn it off with --public-addr '')", c.PublicAddr, err)
		}
		if m.certs != nil {
			ln = tls.NewListener(ln, tlsConfig(m.certs))
		}
		h, port, _ := net.SplitHostPort(c.PublicAddr)
		if ip := net.ParseIP(h); h == "" || (ip != nil && (ip.IsUnspecified() || ip.IsLoopback())) {
			// The address it listens on, as clients on this host reach it.
			_, port, _ = net.SplitHostPort(ln.Addr().String())
			if h == "" || ip.IsUnspecified() {
				h = "127.0.0.1"
			}
		}
		host = net.JoinHostPort(h, port)
		m.publicLn = ln
		endpoint := oci.NewPublic(pub, a, alias, m.metrics.publicPull, m.log)
		endpoint.SetPullRates(oci.PullRates{Anonymous: c.PublicPullRate, Authenticated: c.PublicAuthenticatedPullRate})
		m.publicHandler, m.publicEndpoint = endpoint, endpoint
	}
	m.public, m.publicHost, m.publicAlias = pub, host, alias
	return ecr.NewPublic(pub, a, alias, host, m.log), nil
}

// PublicURL is the public registry endpoint's base URL once Run has
// returned ("" when it is off).
func (m *Server) PublicURL() string {
	if m.publicLn == nil {
		return ""
	}
	return m.Config.scheme() + "://" + m.publicHost
}
