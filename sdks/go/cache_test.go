package tessera

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

// tokenFor returns the vector token of the named case.
func tokenFor(t *testing.T, vec tokenVectors, name string) string {
	for _, c := range vec.Cases {
		if c.Name == name {
			return c.Token
		}
	}
	t.Fatalf("no vector %s", name)
	return ""
}

func testVerifier(url string, vec tokenVectors, opts ...Option) *Verifier {
	now := time.Unix(1893456000, 0)
	return NewVerifier(url, vec.Audience, append([]Option{
		WithIssuer(vec.Issuer), WithClock(func() time.Time { return now }),
	}, opts...)...)
}

func TestJWKSIsCachedAndRefetchedOnUnknownKidWithCooldown(t *testing.T) {
	var vec tokenVectors
	loadJSON(t, "tokens.json", &vec)
	srv, hits := jwksServer(t, func() []byte { return vec.JWKS })
	v := testVerifier(srv.URL, vec)
	ctx := context.Background()

	for _, name := range []string{"valid_eddsa", "valid_es256", "valid_rs256"} {
		if _, err := v.Verify(ctx, tokenFor(t, vec, name)); err != nil {
			t.Fatal(err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("three verifications fetched the JWKS %d times; want 1", n)
	}
	unknown := tokenFor(t, vec, "unknown_kid")
	if _, err := v.Verify(ctx, unknown); !errors.Is(err, ErrUnknownKey) {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 2 {
		t.Fatalf("an unknown kid fetched %d times in all; want 2", n)
	}
	for range 5 {
		if _, err := v.Verify(ctx, unknown); !errors.Is(err, ErrUnknownKey) {
			t.Fatal(err)
		}
	}
	if n := hits.Load(); n != 2 {
		t.Fatalf("unknown kids within the cooldown fetched again (%d)", n)
	}
	if _, err := v.Verify(ctx, tokenFor(t, vec, "valid_eddsa")); err != nil {
		t.Fatal(err)
	}
}

func TestNewKidIsPickedUpAfterRotationAndCooldownExpires(t *testing.T) {
	var vec tokenVectors
	loadJSON(t, "tokens.json", &vec)
	// The server first publishes only the Ed25519 key, then all three.
	var all struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(vec.JWKS, &all); err != nil {
		t.Fatal(err)
	}
	first, _ := json.Marshal(map[string]any{"keys": all.Keys[:1]})
	var mu sync.Mutex
	current := first
	srv, hits := jwksServer(t, func() []byte { mu.Lock(); defer mu.Unlock(); return current })
	v := testVerifier(srv.URL, vec, WithRefetchCooldown(50*time.Millisecond))
	ctx := context.Background()

	if _, err := v.Verify(ctx, tokenFor(t, vec, "valid_eddsa")); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tokenFor(t, vec, "valid_es256")); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("es256 before rotation: %v", err)
	}
	mu.Lock()
	current = vec.JWKS
	mu.Unlock()
	// Within the cooldown the new key is not seen yet…
	if _, err := v.Verify(ctx, tokenFor(t, vec, "valid_es256")); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("within cooldown: %v", err)
	}
	time.Sleep(60 * time.Millisecond)
	// …after it, one refetch finds it.
	if _, err := v.Verify(ctx, tokenFor(t, vec, "valid_es256")); err != nil {
		t.Fatalf("after cooldown: %v", err)
	}
	if n := hits.Load(); n != 3 {
		t.Fatalf("fetches: %d; want 3", n)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	var vec tokenVectors
	loadJSON(t, "tokens.json", &vec)
	srv, _ := jwksServer(t, func() []byte { return []byte("not json") })
	v := testVerifier(srv.URL, vec)
	if _, err := v.Verify(context.Background(), tokenFor(t, vec, "valid_eddsa")); !errors.Is(err, ErrJWKSUnavailable) {
		t.Fatalf("got %v", err)
	}
}

func TestConcurrentVerifiesFetchOnce(t *testing.T) {
	var vec tokenVectors
	loadJSON(t, "tokens.json", &vec)
	srv, hits := jwksServer(t, func() []byte { return vec.JWKS })
	v := testVerifier(srv.URL, vec)
	tok := tokenFor(t, vec, "valid_eddsa")
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := hits.Load(); n != 1 {
		t.Fatalf("fetches: %d", n)
	}
}
