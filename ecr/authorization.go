package ecr

import (
	"context"
	"encoding/base64"
	"github.com/berth-registry/berth/awsproto"
	"time"

	"github.com/berth-registry/berth"
)

var timeZero time.Time

func (s *Server) getAuthorizationToken(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		RegistryIDs []string `json:"registryIds"`
	}](c)
	if err != nil {
		return nil, err
	}
	if in.RegistryIDs != nil && (len(in.RegistryIDs) < 1 || len(in.RegistryIDs) > 10) {
		return nil, berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member must have length between 1 and 10'")
	}
	for _, id := range in.RegistryIDs {
		if err := s.reg.ValidRegistryID(id); err != nil {
			return nil, err
		}
	}
	password, exp := s.auth.IssueToken(c.cred)
	data := authorizationData{
		AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
		ExpiresAt:          awsproto.EpochOf(exp),
		ProxyEndpoint:      baseURL(c.r),
	}
	n := max(1, len(in.RegistryIDs))
	out := make([]authorizationData, n)
	for i := range out {
		out[i] = data
	}
	return map[string]any{"authorizationData": out}, nil
}
