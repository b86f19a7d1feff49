package tessera

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTokenFromRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if TokenFromRequest(r) != "" {
		t.Fatal("token from nothing")
	}
	r.AddCookie(&http.Cookie{Name: "tessera_at", Value: "cookie-token"})
	if got := TokenFromRequest(r); got != "cookie-token" {
		t.Fatalf("cookie: %q", got)
	}
	r.Header.Set("Authorization", "Bearer header-token")
	if got := TokenFromRequest(r); got != "header-token" {
		t.Fatalf("bearer first: %q", got)
	}
	r.Header.Set("Authorization", "bearer  lower-token ")
	if got := TokenFromRequest(r); got != "lower-token" {
		t.Fatalf("case-insensitive scheme: %q", got)
	}
	r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	if got := TokenFromRequest(r); got != "cookie-token" {
		t.Fatalf("basic auth is not a token: %q", got)
	}
}

func TestMiddleware(t *testing.T) {
	var vec tokenVectors
	loadJSON(t, "tokens.json", &vec)
	srv, _ := jwksServer(t, func() []byte { return vec.JWKS })
	v := testVerifier(srv.URL, vec)
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFromContext(r.Context())
		if !ok {
			t.Error("no claims in context")
		}
		_, _ = w.Write([]byte(c.Subject))
	}))

	serve := func(setup func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/private", nil)
		setup(r)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := serve(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tokenFor(t, vec, "valid_eddsa")) })
	if w.Code != 200 || w.Body.String() != "01900000-0000-7000-8000-0000000000b1" {
		t.Fatalf("bearer: %d %s", w.Code, w.Body)
	}
	w = serve(func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: "tessera_at", Value: tokenFor(t, vec, "valid_rs256")})
	})
	if w.Code != 200 {
		t.Fatalf("cookie: %d %s", w.Code, w.Body)
	}
	for name, setup := range map[string]func(*http.Request){
		"missing": func(*http.Request) {},
		"expired": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tokenFor(t, vec, "expired")) },
		"garbage": func(r *http.Request) { r.Header.Set("Authorization", "Bearer x.y.z") },
	} {
		w := serve(setup)
		var env struct {
			Error struct{ Code, Message string }
		}
		if w.Code != 401 || json.Unmarshal(w.Body.Bytes(), &env) != nil || env.Error.Code != "unauthenticated" ||
			w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	if _, ok := ClaimsFromContext(context.Background()); ok {
		t.Fatal("claims in an empty context")
	}
}
