package server

import (
	"context"
	"fmt"
	"net"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecr"
	"github.com/berth-registry/berth/registry"
)

// publicRegistry makes the public registry (ECR Public) over the store's
// "public" namespace, sharing the blobs and the IAM decisions of the
// private one, and returns the ECR Public API over it.
func (m *Server) publicRegistry(ctx context.Context, c Config, meta berth.MetaStore, blobs berth.BlobStore, private *registry.Registry,
	a *auth.Authenticator, secretsKey []byte) (*ecr.Server, error) {
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
	if h, port, err := net.SplitHostPort(host); err == nil {
		if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
			host = net.JoinHostPort("127.0.0.1", port)
		}
	}
	m.public = pub
	return ecr.NewPublic(pub, a, alias, host, m.log), nil
}
