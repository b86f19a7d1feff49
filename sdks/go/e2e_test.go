package tessera

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEndToEnd runs the SDK against a real Tessera server: set TESSERA_BIN
// to the path of the tessera binary (e.g. target/debug/tessera).
func TestEndToEnd(t *testing.T) {
	bin := os.Getenv("TESSERA_BIN")
	if bin == "" {
		t.Skip("skipped: set TESSERA_BIN to the tessera binary to run the end-to-end test")
	}
	dir := t.TempDir()
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	keyBytes := make([]byte, 32)
	_, _ = rand.Read(keyBytes)
	apiKey := "tsk_" + base64.RawURLEncoding.EncodeToString(keyBytes) // 43 chars
	env := append(os.Environ(),
		"TESSERA_DATABASE_URL=sqlite://"+filepath.Join(dir, "t.db"),
		fmt.Sprintf("TESSERA_LISTEN=127.0.0.1:%d", port),
		"TESSERA_BASE_URL="+base,
		"TESSERA_ADMIN_API_KEY="+apiKey,
		"TESSERA_DEV=1",
		"TESSERA_RATE_LIMITS=off",
	)
	var logs bytes.Buffer
	srv := exec.Command(bin, "serve")
	srv.Dir, srv.Env, srv.Stdout, srv.Stderr = dir, env, &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	waitHealthy(t, base, exited)
	ctx := context.Background()

	email := fmt.Sprintf("e2e-%d@example.test", time.Now().UnixNano())
	password := "correct horse battery staple 42"
	var signUp struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		User         struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	postJSON(t, base+"/v1/sign-up", map[string]string{"email": email, "password": password}, 201, &signUp)
	if signUp.AccessToken == "" || signUp.User.ID == "" {
		t.Fatalf("sign-up answer: %+v", signUp)
	}

	var app struct {
		ID string `json:"id"`
	}
	req, _ := http.NewRequest("GET", base+"/v1/admin/apps/default", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	doJSON(t, req, 200, &app)

	v := NewVerifier(base, app.ID)
	claims, err := v.Verify(ctx, signUp.AccessToken)
	if err != nil {
		t.Fatalf("verify sign-up token: %v", err)
	}
	if claims.Subject != signUp.User.ID || claims.SessionID == "" || claims.ClientID != app.ID {
		t.Fatalf("claims: %+v", claims)
	}

	rotate := exec.Command(bin, "keys", "rotate")
	rotate.Dir, rotate.Env = dir, env
	if out, err := rotate.CombinedOutput(); err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	// A running server caches its signing key for up to a minute
	// (core/src/tokens.rs), so sign in until a token carries the new kid.
	var signIn struct {
		AccessToken string `json:"access_token"`
	}
	for deadline := time.Now().Add(90 * time.Second); ; {
		postJSON(t, base+"/v1/sign-in/password", map[string]string{"email": email, "password": password}, 200, &signIn)
		if kidOf(t, signIn.AccessToken) != kidOf(t, signUp.AccessToken) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no token under the rotated key within 90 s of keys rotate")
		}
		time.Sleep(5 * time.Second)
	}
	claims2, err := v.Verify(ctx, signIn.AccessToken)
	if err != nil {
		t.Fatalf("verify token under the rotated key: %v", err)
	}
	if claims2.Subject != signUp.User.ID || claims2.SessionID == claims.SessionID {
		t.Fatalf("claims after rotation: %+v", claims2)
	}
	if _, err := v.Verify(ctx, signUp.AccessToken); err != nil {
		t.Fatalf("the old key must stay published: %v", err)
	}

	c := NewClient(base, apiKey)
	u, err := c.GetUser(ctx, signUp.User.ID)
	if err != nil || u.Email != email {
		t.Fatalf("GetUser: %+v %v", u, err)
	}
	u, err = c.GetUserByEmail(ctx, strings.ToUpper(email))
	if err != nil || u.ID != signUp.User.ID {
		t.Fatalf("GetUserByEmail: %+v %v", u, err)
	}
	if _, err := c.GetUser(ctx, "01900000-0000-7000-8000-000000000000"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	n, err := c.RevokeSessions(ctx, signUp.User.ID)
	if err != nil || n < 2 { // at least the sign-up and one sign-in session
		t.Fatalf("RevokeSessions: %d %v", n, err)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitHealthy(t *testing.T, base string, exited chan error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("tessera serve exited early: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("server not healthy within 60 s")
}

func postJSON(t *testing.T, url string, body any, status int, out any) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	doJSON(t, req, status, out)
}

func doJSON(t *testing.T, req *http.Request, status int, out any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, buf.String())
	}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		t.Fatalf("%s %s: %v in %s", req.Method, req.URL.Path, err, buf.String())
	}
}

func kidOf(t *testing.T, token string) string {
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h header
	_ = json.Unmarshal(b, &h)
	return h.Kid
}
