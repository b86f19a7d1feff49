package tessera

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify is a warm-cache Verify of the EdDSA vector token.
func BenchmarkVerify(b *testing.B) {
	var vec tokenVectors
	loadJSON(b, "tokens.json", &vec)
	srv, _ := jwksServer(b, func() []byte { return vec.JWKS })
	now := time.Unix(1893456000, 0)
	v := NewVerifier(srv.URL, vec.Audience, WithIssuer(vec.Issuer), WithClock(func() time.Time { return now }))
	token := vec.Cases[0].Token
	ctx := context.Background()
	if _, err := v.Verify(ctx, token); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := v.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawJWT is golang-jwt alone on the same token and key: the floor
// Verify's own work (header, cache, claims) adds to.
func BenchmarkRawJWT(b *testing.B) {
	var vec tokenVectors
	loadJSON(b, "tokens.json", &vec)
	keys, err := parseJWKS(vec.JWKS)
	if err != nil {
		b.Fatal(err)
	}
	key := keys["test-ed25519"].key
	token := vec.Cases[0].Token
	p := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithoutClaimsValidation())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var c jwt.MapClaims
		if _, err := p.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
			b.Fatal(err)
		}
	}
}
