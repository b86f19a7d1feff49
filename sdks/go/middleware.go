package tessera

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

type claimsKey struct{}

// ContextWithClaims returns a copy of ctx carrying claims.
func ContextWithClaims(ctx context.Context, claims *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, claims)
}

// ClaimsFromContext returns the claims Middleware put in ctx.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// Middleware lets through only requests with a valid access token
// (TokenFromRequest), with the claims in the request context
// (ClaimsFromContext). Others get 401 with Tessera's JSON error envelope
// {"error": {"code": "unauthenticated", "message": …}}, or 503 when the JWKS
// cannot be fetched.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := TokenFromRequest(r)
		if token == "" {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "missing access token")
			return
		}
		claims, err := v.Verify(r.Context(), token)
		if err != nil {
			if errors.Is(err, ErrJWKSUnavailable) {
				writeError(w, http.StatusServiceUnavailable, "unavailable", "cannot verify tokens now")
				return
			}
			var e *Error
			msg := "invalid access token"
			if errors.As(err, &e) {
				msg += ": " + e.Code
			}
			writeError(w, http.StatusUnauthorized, "unauthenticated", msg)
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithClaims(r.Context(), claims)))
	})
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	w.WriteHeader(status)
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	env.Error.Code, env.Error.Message = code, message
	_ = json.NewEncoder(w).Encode(env)
}
