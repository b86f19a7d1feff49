package tessera

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// publicKey is one usable JWKS entry: its algorithm and the key in the form
// golang-jwt takes for that algorithm.
type publicKey struct {
	alg string
	key any
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// parseJWKS keeps the signing keys this SDK accepts (EdDSA, ES256, RS256)
// and skips any other entry, so one odd key does not disable the rest.
func parseJWKS(body []byte) (map[string]publicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	keys := make(map[string]publicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var k jwk
		if json.Unmarshal(raw, &k) != nil || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if pk, err := k.publicKey(); err == nil {
			keys[k.Kid] = pk
		}
	}
	return keys, nil
}

func b64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func (k jwk) publicKey() (publicKey, error) {
	// The algorithm comes from the key; a key without alg gets the one
	// algorithm its type allows here.
	alg := k.Alg
	switch k.Kty {
	case "OKP":
		if alg == "" {
			alg = "EdDSA"
		}
		x, err := b64(k.X)
		if alg != "EdDSA" || k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return publicKey{}, errors.New("bad OKP key")
		}
		return publicKey{alg, ed25519.PublicKey(x)}, nil
	case "EC":
		if alg == "" {
			alg = "ES256"
		}
		x, errX := b64(k.X)
		y, errY := b64(k.Y)
		if alg != "ES256" || k.Crv != "P-256" || errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return publicKey{}, errors.New("bad EC key")
		}
		// Validate the point by parsing its uncompressed encoding.
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			return publicKey{}, err
		}
		return publicKey{alg, pub}, nil
	case "RSA":
		if alg == "" {
			alg = "RS256"
		}
		n, errN := b64(k.N)
		e, errE := b64(k.E)
		if alg != "RS256" || errN != nil || errE != nil || len(n) < 256 || len(e) == 0 || len(e) > 4 {
			return publicKey{}, errors.New("bad RSA key")
		}
		eInt := int(new(big.Int).SetBytes(e).Int64())
		return publicKey{alg, &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: eInt}}, nil
	}
	return publicKey{}, fmt.Errorf("unsupported kty %q", k.Kty)
}

// keyCache holds the JWKS. It is fetched on first use, refreshed after
// maxAge, and refetched when a token names an unknown kid, but at most once
// per cooldown for that reason.
type keyCache struct {
	url     string
	client  *http.Client
	timeout time.Duration
	cool    time.Duration
	maxAge  time.Duration

	mu          sync.RWMutex
	keys        map[string]publicKey
	fetchedAt   time.Time // last successful fetch
	lastRefetch time.Time // last fetch caused by an unknown kid
	lastFailure time.Time // last failed fetch

	fetchMu sync.Mutex // one fetch at a time
}

// failureBackoff is the least time between two fetches while none succeeds.
const failureBackoff = time.Second

func (c *keyCache) lookup(kid string) (publicKey, bool, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.keys[kid]
	fresh := c.keys != nil && time.Since(c.fetchedAt) < c.maxAge
	return k, ok, fresh
}

// get returns the key for kid, fetching the JWKS when needed.
func (c *keyCache) get(ctx context.Context, kid string) (publicKey, error) {
	if k, ok, fresh := c.lookup(kid); ok && fresh {
		return k, nil
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	// Another caller may have fetched while we waited.
	c.mu.RLock()
	k, ok := c.keys[kid]
	loaded := c.keys != nil
	fresh := loaded && time.Since(c.fetchedAt) < c.maxAge
	lastRefetch, lastFailure := c.lastRefetch, c.lastFailure
	c.mu.RUnlock()
	if ok && fresh {
		return k, nil
	}
	now := time.Now()
	switch {
	case !lastFailure.IsZero() && now.Sub(lastFailure) < failureBackoff:
		// A fetch just failed: do not retry at once.
	case !loaded || !fresh:
		c.fetch(ctx, false)
	case now.Sub(lastRefetch) >= c.cool || lastRefetch.IsZero():
		c.fetch(ctx, true)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if k, ok := c.keys[kid]; ok {
		return k, nil
	}
	if c.keys == nil {
		return publicKey{}, &Error{Code: ErrJWKSUnavailable.Code, Message: "could not fetch " + c.url}
	}
	return publicKey{}, newError(ErrUnknownKey.Code, "no key %q in the JWKS", kid)
}

// fetch loads the JWKS; on failure the old keys stay.
func (c *keyCache) fetch(ctx context.Context, unknownKid bool) {
	keys, err := c.load(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if unknownKid {
		c.lastRefetch = now
	}
	if err != nil {
		c.lastFailure = now
		return
	}
	c.keys, c.fetchedAt, c.lastFailure = keys, now, time.Time{}
}

func (c *keyCache) load(ctx context.Context) (map[string]publicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return parseJWKS(body)
}
