package server

import (
	"fmt"
	"strconv"
	"time"
)

// setting is one setting of the configuration: its flag (none for the
// credentials, which stay out of shell histories), environment variable,
// config-file key, meaning, and the field it sets.
type setting struct {
	flag, env, key, usage string
	value                 value
}

// value is a setting's field, read from text (flag.Value, and
// IsBoolFlag for the flags that take no argument).
type value interface {
	String() string
	Set(string) error
}

type stringValue struct{ p *string }
type boolValue struct{ p *bool }
type intValue struct{ p *int }
type durationValue struct{ p *time.Duration }
type floatValue struct{ p *float64 }

// The flag package calls String on zero values to find defaults: each
// answers "" for one.
func (v floatValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}
func (v floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return fmt.Errorf("must be a number, 0 or more")
	}
	*v.p = f
	return nil
}

func (v stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}
func (v stringValue) Set(s string) error { *v.p = s; return nil }
func (v boolValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatBool(*v.p)
}
func (v boolValue) IsBoolFlag() bool { return true }
func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("must be true or false")
	}
	*v.p = b
	return nil
}
func (v intValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(*v.p)
}
func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("must be a whole number")
	}
	*v.p = n
	return nil
}
func (v durationValue) String() string {
	if v.p == nil {
		return ""
	}
	return v.p.String()
}
func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("must be a duration such as 90s or 2m")
	}
	*v.p = d
	return nil
}

// settings are every setting of c, in the order the documentation lists
// them: the one table LoadConfig and docs/operations.md read.
func settings(c *Config) []setting {
	l := &c.Limits
	return []setting{
		{"addr", "BERTH_ADDR", "addr", "listen address", stringValue{&c.Addr}},
		{"data-dir", "BERTH_DATA_DIR", "dataDir", "data directory: SQLite file, filesystem blobs, credentials", stringValue{&c.DataDir}},
		{"registry-id", "BERTH_REGISTRY_ID", "registryId", "12-digit registry (account) id", stringValue{&c.RegistryID}},
		{"region", "BERTH_REGION", "region", "AWS region the registry answers as", stringValue{&c.Region}},
		{"create-on-push", "BERTH_CREATE_ON_PUSH", "createOnPush", "create repositories on first push, through a ROOT creation template", boolValue{&c.CreateOnPush}},
		{"metadata", "BERTH_METADATA", "metadata", "metadata store: sqlite, or postgres://user:password@host/db", stringValue{&c.Metadata}},
		{"blobs", "BERTH_BLOBS", "blobs", "blob store: filesystem, or s3://bucket/prefix?endpoint=URL&region=R", stringValue{&c.Blobs}},
		{"migrate", "BERTH_MIGRATE", "migrate", "apply pending metadata schema migrations at start", boolValue{&c.Migrate}},
		{"tls-cert", "BERTH_TLS_CERT", "tlsCert", "serve HTTPS with this PEM certificate (chain), reloaded when it changes", stringValue{&c.TLSCert}},
		{"tls-key", "BERTH_TLS_KEY", "tlsKey", "the PEM private key of --tls-cert", stringValue{&c.TLSKey}},
		{"tls-self-signed", "BERTH_TLS_SELF_SIGNED", "tlsSelfSigned", "serve HTTPS with a self-signed certificate made and kept in the data directory", boolValue{&c.TLSSelfSigned}},
		{"console", "BERTH_CONSOLE", "console", "serve the web console at /ui/ (sign in with an access key)", boolValue{&c.Console}},
		{"console-idle", "BERTH_CONSOLE_IDLE", "consoleIdle", "end a console session unused this long (sessions last 12 hours at most)", durationValue{&c.ConsoleIdle}},
		{"log-requests", "BERTH_LOG_REQUESTS", "logRequests", "log every request (structured, with its request id)", boolValue{&c.LogRequests}},
		{"pprof", "BERTH_PPROF", "pprof", "serve Go profiles (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060", stringValue{&c.Pprof}},
		{"max-header-bytes", "BERTH_MAX_HEADER_BYTES", "limits.maxHeaderBytes", "largest request line and headers, in bytes (431 past it)", intValue{&l.MaxHeaderBytes}},
		{"max-headers", "BERTH_MAX_HEADERS", "limits.maxHeaders", "most header lines in a request (431 past it)", intValue{&l.MaxHeaders}},
		{"header-timeout", "BERTH_HEADER_TIMEOUT", "limits.headerTimeout", "longest time to send a request's headers", durationValue{&l.HeaderTimeout}},
		{"idle-timeout", "BERTH_IDLE_TIMEOUT", "limits.idleTimeout", "close a keep-alive connection idle this long", durationValue{&l.IdleTimeout}},
		{"stall-timeout", "BERTH_STALL_TIMEOUT", "limits.stallTimeout", "cut a body upload or an answer that moves no byte this long", durationValue{&l.StallTimeout}},
		{"max-connections", "BERTH_MAX_CONNECTIONS", "limits.maxConnections", "open connections past which requests are answered 429 (0: no cap)", intValue{&l.MaxConnections}},
		{"max-uploads-per-client", "BERTH_MAX_UPLOADS_PER_CLIENT", "limits.maxUploadsPerClient", "blob uploads one client address may send at once, 429 past it (0: no cap)", intValue{&l.MaxUploadsPerClient}},
		{"auth-failures", "BERTH_AUTH_FAILURES", "limits.authFailures", "failed sign-ins a client address may make in a minute before they are refused for a minute (-1: no limit)", intValue{&l.AuthFailures}},
		{"lifecycle-interval", "BERTH_LIFECYCLE_INTERVAL", "lifecycleInterval", "how often each repository's lifecycle policy is evaluated and carried out, as ECR's \"within 24 hours\" (0: not in this process)", durationValue{&c.LifecycleInterval}},
		{"archive-restore-time", "BERTH_ARCHIVE_RESTORE_TIME", "archiveRestoreTime", "how long a restore from the archive storage class takes: the image is ACTIVATING, then ACTIVE", durationValue{&c.ArchiveRestoreTime}},
		{"gc-interval", "BERTH_GC_INTERVAL", "gc.interval", "time between garbage collection sweeps in each process (0: none; berth gc runs one)", durationValue{&c.GC.Interval}},
		{"gc-blob-grace", "BERTH_GC_BLOB_GRACE", "gc.blobGrace", "how long a blob nothing references, or one a client was just told exists, is kept (above presigned URL lifetimes)", durationValue{&c.GC.BlobGrace}},
		{"gc-upload-ttl", "BERTH_GC_UPLOAD_TTL", "gc.uploadTTL", "how long an upload may stay idle before it is abandoned and its bytes deleted", durationValue{&c.GC.UploadTTL}},
		{"secrets-key-file", "BERTH_SECRETS_KEY_FILE", "secretsKeyFile", "file of the 32-byte key that seals IAM users' secret keys in the metadata store (default <data-dir>/secrets.key, made on first start; replicas must share it)", stringValue{&c.SecretsKeyFile}},
		{"iam-refresh", "BERTH_IAM_REFRESH", "iamRefresh", "how often to look for IAM and policy changes made by another replica (a replica's own apply at once)", durationValue{&c.IAMRefresh}},
		{"public-addr", "BERTH_PUBLIC_ADDR", "publicAddr", "the public registry endpoint's address, as ECR Public's public.ecr.aws: repository URIs are <public-addr>/<alias>/<name>", stringValue{&c.PublicAddr}},
		{"public-alias", "BERTH_PUBLIC_ALIAS", "publicAlias", "the public registry's alias (2-50 characters, starting with a letter); a generated one, kept, when unset", stringValue{&c.PublicAlias}},
		{"public-pull-rate", "BERTH_PUBLIC_PULL_RATE", "publicPullRate", "pull requests (manifests, blobs, tag lists) a second one anonymous client address may make to the public endpoint, 429 past it (0: no bound; ECR Public allows 1 image pull a second)", floatValue{&c.PublicPullRate}},
		{"public-authenticated-pull-rate", "BERTH_PUBLIC_AUTHENTICATED_PULL_RATE", "publicAuthenticatedPullRate", "pull requests a second one account may make to the public endpoint with a login, 429 past it (0: no bound; ECR Public allows 10 image pulls a second)", floatValue{&c.PublicAuthenticatedPullRate}},
		{"", "BERTH_ACCESS_KEY_ID", "accessKeyId", "the admin access key id; with BERTH_SECRET_ACCESS_KEY, instead of generated credentials (replicas must share them)", stringValue{&c.AccessKeyID}},
		{"", "BERTH_SECRET_ACCESS_KEY", "secretAccessKey", "the admin secret access key", stringValue{&c.SecretAccessKey}},
	}
}
