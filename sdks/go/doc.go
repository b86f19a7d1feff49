// Package tessera lets a Go backend trust Tessera: it verifies Tessera's
// access tokens against the install's JWKS, verifies Tessera's webhooks, and
// calls Tessera's server API with an API key.
//
// The SDK speaks only Tessera's public wire contract (JWKS, RFC 9068 access
// tokens, Standard Webhooks, the /v1/admin JSON API), never its internals, so
// it works against any Tessera version that keeps that contract. The shared
// vectors in sdks/testdata pin the exact rules; every Tessera SDK passes them.
//
// Verifying a request:
//
//	v := tessera.NewVerifier("https://auth.example.com", appID)
//	claims, err := v.Verify(ctx, tessera.TokenFromRequest(r))
//
// or wrap handlers with v.Middleware and read ClaimsFromContext(r.Context()).
//
// Security notes: the algorithm is always taken from the JWKS key (EdDSA,
// ES256 or RS256), never from the token alone, so "none" and HMAC tokens are
// refused; the header's typ must be "at+jwt" (RFC 9068), so an OpenID
// Connect ID token cannot pass for an access token; an unknown key id
// refetches the JWKS at most once per cooldown, so garbage tokens cannot make
// the verifier hammer the server.
package tessera
