package tessera

import (
	"net/http"
	"time"
)

// Option configures a Verifier or a Client. Each option says which it
// applies to; the other ignores it.
type Option func(*options)

type options struct {
	httpClient      *http.Client
	clock           func() time.Time
	leeway          time.Duration
	issuer          string
	refetchCooldown time.Duration
	maxAge          time.Duration
	timeout         time.Duration
}

// Defaults.
const (
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
	// DefaultRefetchCooldown is the least time between two JWKS refetches
	// triggered by unknown key ids.
	DefaultRefetchCooldown = 30 * time.Second
	// DefaultMaxAge is how long a fetched JWKS is used before it is
	// refreshed (a failed refresh keeps the old keys).
	DefaultMaxAge = time.Hour
	// DefaultTimeout bounds each HTTP request (JWKS fetch or API call).
	DefaultTimeout = 10 * time.Second
)

func buildOptions(opts []Option) options {
	o := options{
		clock:           time.Now,
		leeway:          DefaultLeeway,
		refetchCooldown: DefaultRefetchCooldown,
		maxAge:          DefaultMaxAge,
		timeout:         DefaultTimeout,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.httpClient == nil {
		o.httpClient = &http.Client{}
	}
	return o
}

// WithHTTPClient sets the HTTP client (Verifier and Client). The default is a
// fresh http.Client; the per-request timeout (WithTimeout) applies either way.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithTimeout bounds each HTTP request (Verifier and Client); default 10 s.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithClock sets the time source used to check exp and nbf (Verifier).
// Tests use it to verify tokens at a fixed time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithLeeway sets the clock skew allowed on exp and nbf (Verifier); default 30 s.
func WithLeeway(d time.Duration) Option { return func(o *options) { o.leeway = d } }

// WithIssuer sets the expected iss (Verifier). The default is the base URL
// without a trailing slash, which is what Tessera issues.
func WithIssuer(iss string) Option { return func(o *options) { o.issuer = iss } }

// WithRefetchCooldown sets the least time between two JWKS refetches caused
// by unknown key ids (Verifier); default 30 s.
func WithRefetchCooldown(d time.Duration) Option {
	return func(o *options) { o.refetchCooldown = d }
}

// WithMaxAge sets how long a fetched JWKS is trusted before it is refreshed
// (Verifier); default 1 hour. Refreshing drops keys Tessera no longer
// publishes.
func WithMaxAge(d time.Duration) Option { return func(o *options) { o.maxAge = d } }
