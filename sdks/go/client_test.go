package tessera

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testAPIKey = "tsk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

func userJSON(id, email string) map[string]any {
	return map[string]any{
		"id": id, "pool_id": "pool_1", "email": email, "email_verified": true,
		"name": "Ada", "metadata": map[string]any{"plan": "pro"}, "disabled": false,
		"created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-02T03:04:05.123456Z",
	}
}

// fakeAdminAPI plays Tessera's admin API: three users, pages of two.
func fakeAdminAPI(t *testing.T) *httptest.Server {
	users := []map[string]any{
		userJSON("u1", "ada@example.test"),
		userJSON("u2", "grace@example.test"),
		userJSON("u3", "Ada.L@Example.test"),
	}
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/admin/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, u := range users {
			if u["id"] == r.PathValue("id") {
				writeJSON(w, 200, u)
				return
			}
		}
		writeJSON(w, 404, map[string]any{"error": map[string]any{"code": "not_found", "message": "no such user"}})
	})
	mux.HandleFunc("GET /v1/admin/users", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var match []map[string]any
		for _, u := range users {
			// Like a substring search: the client must pick the exact match.
			if e := q.Get("email"); e == "" || strings.Contains(strings.ToLower(u["email"].(string)), strings.ToLower(e)) {
				match = append(match, u)
			}
		}
		start := 0
		if c := q.Get("cursor"); c != "" {
			fmt.Sscanf(c, "c%d", &start)
		}
		limit := 2
		if l := q.Get("limit"); l != "" {
			fmt.Sscanf(l, "%d", &limit)
		}
		end := min(start+limit, len(match))
		var next any
		if end < len(match) {
			next = fmt.Sprintf("c%d", end)
		}
		writeJSON(w, 200, map[string]any{"users": match[start:end], "next_cursor": next})
	})
	mux.HandleFunc("DELETE /v1/admin/users/{id}/sessions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"revoked": 3})
	})
	mux.HandleFunc("GET /v1/admin/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testAPIKey {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"code": "unauthenticated", "message": "bad API key"}})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClientGetUser(t *testing.T) {
	srv := fakeAdminAPI(t)
	c := NewClient(srv.URL+"/", testAPIKey)
	u, err := c.GetUser(context.Background(), "u2")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "u2" || u.Email != "grace@example.test" || !u.EmailVerified || u.PoolID != "pool_1" ||
		u.Name == nil || *u.Name != "Ada" || string(u.Metadata) != `{"plan":"pro"}` || u.Disabled ||
		!u.CreatedAt.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		u.UpdatedAt.Nanosecond() != 123456000 {
		t.Fatalf("user: %+v", u)
	}
}

func TestClientErrorEnvelope(t *testing.T) {
	srv := fakeAdminAPI(t)
	_, err := NewClient(srv.URL, testAPIKey).GetUser(context.Background(), "nobody")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Code != "not_found" || apiErr.Message != "no such user" {
		t.Fatalf("got %v", err)
	}
	if !errors.Is(err, ErrNotFound) {
		t.Fatal("404 does not match ErrNotFound")
	}
	_, err = NewClient(srv.URL, "tsk_wrong").GetUser(context.Background(), "u1")
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != "unauthenticated" {
		t.Fatalf("wrong key: %v", err)
	}
	if errors.Is(err, ErrNotFound) {
		t.Fatal("401 matches ErrNotFound")
	}
}

func TestClientGetUserByEmailPicksExactMatchAcrossPages(t *testing.T) {
	srv := fakeAdminAPI(t)
	c := NewClient(srv.URL, testAPIKey)
	u, err := c.GetUserByEmail(context.Background(), "ADA.l@example.TEST")
	if err != nil || u.ID != "u3" {
		t.Fatalf("got %+v, %v", u, err)
	}
	u, err = c.GetUserByEmail(context.Background(), "ada@example.test")
	if err != nil || u.ID != "u1" {
		t.Fatalf("got %+v, %v", u, err)
	}
	if _, err := c.GetUserByEmail(context.Background(), "da@example.test"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no exact match: %v", err)
	}
}

func TestClientListUsersPaginates(t *testing.T) {
	srv := fakeAdminAPI(t)
	c := NewClient(srv.URL, testAPIKey)
	var ids []string
	p := ListUsersParams{Limit: 2}
	for pages := 0; ; pages++ {
		page, err := c.ListUsers(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			ids = append(ids, u.ID)
		}
		if page.NextCursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("no end")
		}
		p.Cursor = page.NextCursor
	}
	if strings.Join(ids, ",") != "u1,u2,u3" {
		t.Fatalf("ids %v", ids)
	}
}

func TestClientRevokeSessions(t *testing.T) {
	srv := fakeAdminAPI(t)
	n, err := NewClient(srv.URL, testAPIKey).RevokeSessions(context.Background(), "u1")
	if err != nil || n != 3 {
		t.Fatalf("got %d, %v", n, err)
	}
}

func TestClientTimeoutAndInjectedHTTPClient(t *testing.T) {
	srv := fakeAdminAPI(t)
	var seen int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen++
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := NewClient(srv.URL, testAPIKey, WithHTTPClient(hc), WithTimeout(100*time.Millisecond))
	start := time.Now()
	err := c.do(context.Background(), http.MethodGet, "/v1/admin/slow", &struct{}{})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
	if seen != 1 {
		t.Fatalf("injected client used %d times", seen)
	}
}

func TestClientDecodeAndTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>"))
	}))
	defer srv.Close()
	if _, err := NewClient(srv.URL, testAPIKey).GetUser(context.Background(), "u1"); !errors.Is(err, ErrDecode) {
		t.Fatalf("got %v", err)
	}
	srv.Close()
	if _, err := NewClient(srv.URL, testAPIKey).GetUser(context.Background(), "u1"); !errors.Is(err, ErrTransport) {
		t.Fatalf("got %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
