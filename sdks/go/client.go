package tessera

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// User is a Tessera user as the server API returns it.
type User struct {
	ID            string          `json:"id"`
	PoolID        string          `json:"pool_id"`
	Email         string          `json:"email"`
	EmailVerified bool            `json:"email_verified"`
	Name          *string         `json:"name"`
	Metadata      json.RawMessage `json:"metadata"`
	Disabled      bool            `json:"disabled"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// UserPage is one page of ListUsers.
type UserPage struct {
	Users []User `json:"users"`
	// NextCursor is passed as ListUsersParams.Cursor for the next page; ""
	// on the last page.
	NextCursor string `json:"-"`
}

// ListUsersParams filters and pages ListUsers; zero values are left out.
type ListUsersParams struct {
	Email  string
	Cursor string
	Limit  int
}

// Client calls Tessera's server API (/v1/admin/…) with an API key. It is
// safe for concurrent use.
type Client struct {
	baseURL string
	apiKey  string
	http    *http.Client
	timeout time.Duration
}

// NewClient returns a client for the Tessera install at baseURL,
// authenticating with apiKey ("tsk_…"). Options: WithHTTPClient, WithTimeout.
func NewClient(baseURL, apiKey string, opts ...Option) *Client {
	o := buildOptions(opts)
	return &Client{
		baseURL: strings.TrimRight(baseURL, "/"),
		apiKey:  apiKey,
		http:    o.httpClient,
		timeout: o.timeout,
	}
}

// GetUser returns the user with the given id (GET /v1/admin/users/{id}).
func (c *Client) GetUser(ctx context.Context, id string) (*User, error) {
	var u User
	if err := c.do(ctx, http.MethodGet, "/v1/admin/users/"+url.PathEscape(id), &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUserByEmail returns the user whose email equals email, ignoring case.
// No such user is an error matching ErrNotFound.
func (c *Client) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	params := ListUsersParams{Email: email}
	for range 20 { // the server filters by email: more than one page is unusual
		page, err := c.ListUsers(ctx, params)
		if err != nil {
			return nil, err
		}
		for i := range page.Users {
			if strings.EqualFold(page.Users[i].Email, email) {
				return &page.Users[i], nil
			}
		}
		if page.NextCursor == "" {
			break
		}
		params.Cursor = page.NextCursor
	}
	return nil, &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "no user with that email"}
}

// ListUsers returns one page of users (GET /v1/admin/users).
func (c *Client) ListUsers(ctx context.Context, p ListUsersParams) (*UserPage, error) {
	q := url.Values{}
	if p.Email != "" {
		q.Set("email", p.Email)
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	path := "/v1/admin/users"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var page struct {
		Users      []User  `json:"users"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := c.do(ctx, http.MethodGet, path, &page); err != nil {
		return nil, err
	}
	out := &UserPage{Users: page.Users}
	if page.NextCursor != nil {
		out.NextCursor = *page.NextCursor
	}
	return out, nil
}

// RevokeSessions signs the user out everywhere (DELETE
// /v1/admin/users/{id}/sessions) and returns how many sessions were revoked.
func (c *Client) RevokeSessions(ctx context.Context, userID string) (int, error) {
	var out struct {
		Revoked int `json:"revoked"`
	}
	path := "/v1/admin/users/" + url.PathEscape(userID) + "/sessions"
	if err := c.do(ctx, http.MethodDelete, path, &out); err != nil {
		return 0, err
	}
	return out.Revoked, nil
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, nil)
	if err != nil {
		return &Error{Code: ErrTransport.Code, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return transportError(ctx, err)
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		apiErr := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
			apiErr.Code, apiErr.Message = env.Error.Code, env.Error.Message
		} else {
			apiErr.Code, apiErr.Message = "http_"+strconv.Itoa(resp.StatusCode), http.StatusText(resp.StatusCode)
		}
		return apiErr
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &Error{Code: ErrDecode.Code, Message: fmt.Sprintf("%s %s", method, path), Err: err}
	}
	return nil
}

func transportError(ctx context.Context, err error) error {
	var ne interface{ Timeout() bool }
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Code: ErrTimeout.Code, Err: err}
	}
	return &Error{Code: ErrTransport.Code, Err: err}
}
