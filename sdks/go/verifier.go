package tessera

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the verified claims of a Tessera access token (RFC 9068).
type Claims struct {
	// Subject is the user id (sub).
	Subject string
	// SessionID is the session id (sid).
	SessionID string
	// Issuer is iss, the install's base URL.
	Issuer string
	// Audience is aud (Tessera issues one: the app id).
	Audience []string
	// ClientID is the app id (client_id).
	ClientID string
	// Pool is the user pool id (pool).
	Pool string
	// ExpiresAt is exp.
	ExpiresAt time.Time
	// IssuedAt is iat (zero when absent).
	IssuedAt time.Time
	// ID is jti.
	ID string
	// AMR lists the authentication methods (RFC 8176: pwd, otp, hwk, swk, mfa).
	AMR []string
	// Roles are the user's roles in the pool (may be empty).
	Roles []string
	// Email is the user's email, when the token carries it.
	Email string
	// EmailVerified reports whether that email is verified.
	EmailVerified bool
	// Raw is every claim as decoded JSON (numbers as json.Number).
	Raw map[string]any
}

// HasRole reports whether the token grants role.
func (c *Claims) HasRole(role string) bool {
	for _, r := range c.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Verifier verifies Tessera access tokens for one app. It is safe for
// concurrent use; make one per process and share it.
type Verifier struct {
	issuer   string
	audience string
	clock    func() time.Time
	leeway   time.Duration
	keys     *keyCache
}

// NewVerifier verifies tokens issued by the Tessera install at baseURL for
// the app whose id is audience. The JWKS is fetched from
// {baseURL}/.well-known/jwks.json on first use. Options: WithHTTPClient,
// WithTimeout, WithClock, WithLeeway, WithIssuer, WithRefetchCooldown,
// WithMaxAge.
func NewVerifier(baseURL, audience string, opts ...Option) *Verifier {
	o := buildOptions(opts)
	base := strings.TrimRight(baseURL, "/")
	issuer := o.issuer
	if issuer == "" {
		issuer = base
	}
	return &Verifier{
		issuer:   issuer,
		audience: audience,
		clock:    o.clock,
		leeway:   o.leeway,
		keys: &keyCache{
			url:     base + "/.well-known/jwks.json",
			client:  o.httpClient,
			timeout: o.timeout,
			cool:    o.refetchCooldown,
			maxAge:  o.maxAge,
		},
	}
}

// allowedAlgs are the only algorithms accepted, and only when the JWKS key
// named by kid is of that algorithm.
var allowedAlgs = map[string]bool{"EdDSA": true, "ES256": true, "RS256": true}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// Verify checks token's signature against the install's JWKS and its typ,
// iss, aud, exp and nbf, and returns its claims. Failures are *Error values
// comparable with errors.Is (ErrExpired, ErrInvalidSignature, …).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, newError(ErrMalformed.Code, "empty token")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, newError(ErrMalformed.Code, "a JWT has three parts")
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, newError(ErrMalformed.Code, "header is not base64url")
	}
	var h header
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return nil, newError(ErrMalformed.Code, "header is not JSON")
	}
	if !allowedAlgs[h.Alg] {
		return nil, newError(ErrUnsupportedAlgorithm.Code, "alg %q is not accepted", h.Alg)
	}
	if !strings.EqualFold(h.Typ, "at+jwt") && !strings.EqualFold(h.Typ, "application/at+jwt") {
		return nil, newError(ErrInvalidTokenType.Code, "typ %q is not at+jwt", h.Typ)
	}
	if h.Kid == "" {
		return nil, newError(ErrMalformed.Code, "no kid in the header")
	}
	key, err := v.keys.get(ctx, h.Kid)
	if err != nil {
		return nil, err
	}
	if key.alg != h.Alg {
		return nil, newError(ErrUnsupportedAlgorithm.Code, "alg %q is not the key's %q", h.Alg, key.alg)
	}

	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{key.alg}),
		jwt.WithoutClaimsValidation(), // checked below, against the injected clock
		jwt.WithJSONNumber(),
	)
	var raw jwt.MapClaims
	_, err = parser.ParseWithClaims(token, &raw, func(*jwt.Token) (any, error) { return key.key, nil })
	if err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			return nil, &Error{Code: ErrInvalidSignature.Code, Message: "signature does not match"}
		case errors.Is(err, jwt.ErrTokenUnverifiable):
			return nil, &Error{Code: ErrUnsupportedAlgorithm.Code, Err: err}
		default:
			return nil, &Error{Code: ErrMalformed.Code, Err: err}
		}
	}
	return v.checkClaims(raw)
}

// VerifyOrNil is Verify for code that only needs "authenticated or not": it
// returns nil for a missing or invalid token.
func (v *Verifier) VerifyOrNil(ctx context.Context, token string) *Claims {
	if token == "" {
		return nil
	}
	c, err := v.Verify(ctx, token)
	if err != nil {
		return nil
	}
	return c
}

func (v *Verifier) checkClaims(raw map[string]any) (*Claims, error) {
	c := &Claims{Raw: raw}
	var ok bool
	if c.Issuer, ok = raw["iss"].(string); !ok || c.Issuer != v.issuer {
		return nil, newError(ErrInvalidIssuer.Code, "iss is not %q", v.issuer)
	}
	switch aud := raw["aud"].(type) {
	case string:
		c.Audience = []string{aud}
	case []any:
		for _, a := range aud {
			if s, ok := a.(string); ok {
				c.Audience = append(c.Audience, s)
			}
		}
	}
	found := false
	for _, a := range c.Audience {
		found = found || a == v.audience
	}
	if !found {
		return nil, newError(ErrInvalidAudience.Code, "aud does not contain %q", v.audience)
	}
	now := v.clock()
	exp, ok := numericDate(raw["exp"])
	if !ok {
		return nil, newError(ErrMalformed.Code, "exp is missing or not a number")
	}
	if now.After(exp.Add(v.leeway)) {
		return nil, newError(ErrExpired.Code, "expired at %s", exp.UTC().Format(time.RFC3339))
	}
	c.ExpiresAt = exp
	if nbf, present := raw["nbf"]; present {
		t, ok := numericDate(nbf)
		if !ok {
			return nil, newError(ErrMalformed.Code, "nbf is not a number")
		}
		if now.Add(v.leeway).Before(t) {
			return nil, newError(ErrNotYetValid.Code, "not valid before %s", t.UTC().Format(time.RFC3339))
		}
	}
	if iat, present := raw["iat"]; present {
		t, ok := numericDate(iat)
		if !ok {
			return nil, newError(ErrMalformed.Code, "iat is not a number")
		}
		c.IssuedAt = t
	}
	if c.Subject, ok = raw["sub"].(string); !ok || c.Subject == "" {
		return nil, newError(ErrMalformed.Code, "sub is missing")
	}
	c.SessionID, _ = raw["sid"].(string)
	c.ClientID, _ = raw["client_id"].(string)
	c.Pool, _ = raw["pool"].(string)
	c.ID, _ = raw["jti"].(string)
	c.Email, _ = raw["email"].(string)
	c.EmailVerified, _ = raw["email_verified"].(bool)
	c.AMR = stringList(raw["amr"])
	c.Roles = stringList(raw["roles"])
	return c, nil
}

func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	if i, err := n.Int64(); err == nil {
		return time.Unix(i, 0), true
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, int64(f*1e9)), true
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
