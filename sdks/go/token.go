package tessera

import (
	"net/http"
	"strings"
)

// AccessTokenCookie is the cookie that carries the access JWT for
// server-rendered apps.
const AccessTokenCookie = "tessera_at"

// TokenFromRequest returns the access token of r: the Authorization: Bearer
// value first, then the tessera_at cookie; "" when there is none.
func TokenFromRequest(r *http.Request) string {
	return TokenFromHeader(r.Header)
}

// TokenFromHeader returns the bearer token of an Authorization header in h,
// else the tessera_at cookie of its Cookie header; "" when there is none.
func TokenFromHeader(h http.Header) string {
	if auth := h.Get("Authorization"); auth != "" {
		scheme, rest, ok := strings.Cut(strings.TrimSpace(auth), " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			if t := strings.TrimSpace(rest); t != "" {
				return t
			}
		}
	}
	r := http.Request{Header: h}
	if c, err := r.Cookie(AccessTokenCookie); err == nil {
		return c.Value
	}
	return ""
}
