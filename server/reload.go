package server

import (
	"os"

	"github.com/berth-registry/berth/oci"
)

// What a reload (SIGHUP, systemctl reload) applies to a running berth: the
// TLS files, and the settings that can change without a restart. The rest
// are logged as waiting for one.

// liveSettings are the settings a reload applies at once (by flag name).
var liveSettings = map[string]bool{
	"log-requests": true, "max-headers": true, "max-connections": true, "max-uploads-per-client": true, "stall-timeout": true,
	"auth-failures": true, "public-pull-rate": true, "public-authenticated-pull-rate": true, "iam-refresh": true,
	"gc-interval": true, "lifecycle-interval": true,
}

// liveConfig is the configuration requests read: Config, as the last
// reload left it.
func (m *Server) liveConfig() *Config {
	if c := m.live.Load(); c != nil {
		return c
	}
	return &m.Config
}

// reloadConfig reads the configuration again (file, environment, the
// flags berth started with), applies what can change live and logs the
// rest. It returns the names applied and the names that need a restart.
func (m *Server) reloadConfig() (applied, restart []string, err error) {
	old := *m.liveConfig()
	c, err := LoadConfig("berth serve", m.args, os.LookupEnv, m.stderr)
	if err != nil {
		return nil, nil, err
	}
	before, after := settings(&old), settings(&c)
	for i, st := range before {
		if st.value.String() == after[i].value.String() {
			continue
		}
		name := st.flag
		if name == "" {
			name = st.env
		}
		if !liveSettings[st.flag] || (st.flag == "auth-failures" && (m.throttle == nil || c.Limits.AuthFailures < 0)) {
			restart = append(restart, name)
			continue
		}
		applied = append(applied, name)
	}
	// What may not change live keeps its running value.
	next := old
	next.LogRequests = c.LogRequests
	next.Limits.MaxHeaders, next.Limits.MaxConnections = c.Limits.MaxHeaders, c.Limits.MaxConnections
	next.Limits.MaxUploadsPerClient, next.Limits.StallTimeout = c.Limits.MaxUploadsPerClient, c.Limits.StallTimeout
	next.PublicPullRate, next.PublicAuthenticatedPullRate, next.IAMRefresh = c.PublicPullRate, c.PublicAuthenticatedPullRate, c.IAMRefresh
	if m.throttle != nil && c.Limits.AuthFailures >= 0 {
		next.Limits.AuthFailures = c.Limits.AuthFailures
		m.throttle.SetFailures(c.Limits.AuthFailures)
	}
	if m.publicEndpoint != nil {
		m.publicEndpoint.SetPullRates(oci.PullRates{Anonymous: c.PublicPullRate, Authenticated: c.PublicAuthenticatedPullRate})
	}
	m.reg.SetIAMRefresh(c.IAMRefresh)
	if m.public != nil {
		m.public.SetIAMRefresh(c.IAMRefresh)
	}
	if c.GC.Interval != old.GC.Interval || c.LifecycleInterval != old.LifecycleInterval {
		next.GC.Interval, next.LifecycleInterval = c.GC.Interval, c.LifecycleInterval
		m.stopBackground()
		m.background.Wait()
		m.startBackground(next)
	}
	m.live.Store(&next)
	return applied, restart, nil
}
