package tessera

import "fmt"

// Error is a failure of token or webhook verification, or of a call to
// Tessera, with a stable snake_case Code. Compare with errors.Is against the
// Err* values:
//
//	if errors.Is(err, tessera.ErrExpired) { … }
type Error struct {
	// Code is the stable machine-readable reason, e.g. "expired".
	Code string
	// Message is a human-readable detail; it never contains the token.
	Message string
	// Err is the underlying cause, if any.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	msg := "tessera: " + e.Code
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, ErrExpired) works whatever the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Reasons an access token is refused. The codes match the "error" names of
// the shared vectors in sdks/testdata/tokens.json.
var (
	// ErrMissingToken: the request carries no access token.
	ErrMissingToken = &Error{Code: "missing_token"}
	// ErrMalformed: the token (or webhook) is not well-formed.
	ErrMalformed = &Error{Code: "malformed"}
	// ErrUnsupportedAlgorithm: the header alg is not EdDSA, ES256 or RS256,
	// or is not the algorithm of the key named by kid.
	ErrUnsupportedAlgorithm = &Error{Code: "unsupported_algorithm"}
	// ErrInvalidTokenType: the header typ is not "at+jwt".
	ErrInvalidTokenType = &Error{Code: "invalid_token_type"}
	// ErrUnknownKey: the kid is not in the JWKS, even after a refetch.
	ErrUnknownKey = &Error{Code: "unknown_key"}
	// ErrInvalidSignature: the signature does not match (token or webhook).
	ErrInvalidSignature = &Error{Code: "invalid_signature"}
	// ErrExpired: exp is in the past, beyond the leeway.
	ErrExpired = &Error{Code: "expired"}
	// ErrNotYetValid: nbf (or iat) is in the future, beyond the leeway.
	ErrNotYetValid = &Error{Code: "not_yet_valid"}
	// ErrInvalidIssuer: iss is not the expected issuer.
	ErrInvalidIssuer = &Error{Code: "invalid_issuer"}
	// ErrInvalidAudience: aud does not contain the expected audience.
	ErrInvalidAudience = &Error{Code: "invalid_audience"}
	// ErrJWKSUnavailable: the JWKS could not be fetched or parsed.
	ErrJWKSUnavailable = &Error{Code: "jwks_unavailable"}
)

// Reasons a webhook is refused (ErrMalformed and ErrInvalidSignature also
// apply). The codes match sdks/testdata/webhooks.json.
var (
	// ErrTimestampOutOfTolerance: webhook-timestamp is more than five minutes
	// away from now.
	ErrTimestampOutOfTolerance = &Error{Code: "timestamp_out_of_tolerance"}
	// ErrInvalidSecret: the secret is not "whsec_" followed by base64.
	ErrInvalidSecret = &Error{Code: "invalid_secret"}
)

// Failures of server-API calls that are not answers from Tessera.
var (
	// ErrTimeout: the call did not finish within the client's timeout.
	ErrTimeout = &Error{Code: "timeout"}
	// ErrTransport: the request could not be sent or the answer read.
	ErrTransport = &Error{Code: "transport"}
	// ErrDecode: Tessera's answer was not the JSON the SDK expects.
	ErrDecode = &Error{Code: "decode"}
)

// APIError is an error answer from Tessera's server API: the HTTP status and
// the envelope {"error": {"code": "…", "message": "…"}}.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the envelope's machine-readable code, e.g. "not_found".
	Code string
	// Message is the envelope's human-readable message.
	Message string
}

// Error implements the error interface.
func (e *APIError) Error() string {
	return fmt.Sprintf("tessera: API error %d %s: %s", e.Status, e.Code, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) true for any 404 answer.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.Status == 404
}

// ErrNotFound matches (with errors.Is) any 404 answer, including
// GetUserByEmail finding no user.
var ErrNotFound = &Error{Code: "not_found"}

// Codes of Tessera's error envelope: APIError.Code is one of these. The list
// is checked against sdks/testdata/error-codes.json, generated from the server.
const (
	// CodeInvalidCredentials: Email or password wrong, or no such account (never says which).
	CodeInvalidCredentials = "invalid_credentials"
	// CodeBadRequest: The request is malformed (unparseable JSON, wrong content type).
	CodeBadRequest = "bad_request"
	// CodeInvalidInput: Input failed validation; `field` names the offending field.
	CodeInvalidInput = "invalid_input"
	// CodeInvalidEmail: The email address is not acceptable.
	CodeInvalidEmail = "invalid_email"
	// CodeWeakPassword: The password breaks the policy (too short, too long, too guessable).
	CodeWeakPassword = "weak_password"
	// CodeEmailTaken: Another account in the pool already uses this email.
	CodeEmailTaken = "email_taken"
	// CodeIdentityTaken: An external identity is already linked to an account.
	CodeIdentityTaken = "identity_taken"
	// CodeConflict: A unique value (slug, name) is already in use.
	CodeConflict = "conflict"
	// CodeNotFound: The thing asked for does not exist (or the caller may not see it).
	CodeNotFound = "not_found"
	// CodeUserDisabled: The account is disabled.
	CodeUserDisabled = "user_disabled"
	// CodeEmailNotVerified: The account must verify its email address first.
	CodeEmailNotVerified = "email_not_verified"
	// CodeInvalidToken: A token is malformed, forged, or unknown.
	CodeInvalidToken = "invalid_token"
	// CodeTokenExpired: A token was valid once and has expired.
	CodeTokenExpired = "token_expired"
	// CodeRefreshTokenReused: A spent refresh token was presented again; the session is revoked.
	CodeRefreshTokenReused = "refresh_token_reused"
	// CodeSessionExpired: The session was revoked or has expired.
	CodeSessionExpired = "session_expired"
	// CodeUnauthenticated: No credentials were presented, or they do not identify anyone.
	CodeUnauthenticated = "unauthenticated"
	// CodeForbidden: The caller is known but may not do this.
	CodeForbidden = "forbidden"
	// CodeRateLimited: Too many attempts; try again after the given delay.
	CodeRateLimited = "rate_limited"
	// CodeMfaRequired: A second factor is required to finish signing in.
	CodeMfaRequired = "mfa_required"
	// CodeAccountLinkRequired: An account with the external identity's email exists; sign in to it and link explicitly.
	CodeAccountLinkRequired = "account_link_required"
	// CodeLastSignInMethod: The credential or identity is the user's last way to sign in.
	CodeLastSignInMethod = "last_sign_in_method"
	// CodeReauthenticationRequired: The action needs a recent sign-in or the current password again.
	CodeReauthenticationRequired = "reauthentication_required"
	// CodeProviderError: An external provider failed or answered something unusable.
	CodeProviderError = "provider_error"
	// CodeMethodDisabled: The sign-in method is not enabled for this app.
	CodeMethodDisabled = "method_disabled"
	// CodeInvalidWebhookURL: A webhook endpoint URL is not https:// or reaches a non-public address.
	CodeInvalidWebhookURL = "invalid_webhook_url"
	// CodeTooLarge: The value is larger than allowed.
	CodeTooLarge = "too_large"
	// CodeStorageError: The store failed (connection lost, timeout, unexpected database state).
	CodeStorageError = "storage_error"
	// CodeConfigError: The configuration is unusable (missing or malformed key, bad URL).
	CodeConfigError = "config_error"
	// CodeInternalError: A bug or an unexpected failure inside Tessera.
	CodeInternalError = "internal_error"
	// CodeMethodNotAllowed: A known route called with a method it does not serve (HTTP only).
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeTimeout: The request took longer than the server allows (HTTP only).
	CodeTimeout = "timeout"
)

// APIErrorCodes returns every code of Tessera's error envelope (a fresh slice).
func APIErrorCodes() []string {
	return []string{
		CodeInvalidCredentials,
		CodeBadRequest,
		CodeInvalidInput,
		CodeInvalidEmail,
		CodeWeakPassword,
		CodeEmailTaken,
		CodeIdentityTaken,
		CodeConflict,
		CodeNotFound,
		CodeUserDisabled,
		CodeEmailNotVerified,
		CodeInvalidToken,
		CodeTokenExpired,
		CodeRefreshTokenReused,
		CodeSessionExpired,
		CodeUnauthenticated,
		CodeForbidden,
		CodeRateLimited,
		CodeMfaRequired,
		CodeAccountLinkRequired,
		CodeLastSignInMethod,
		CodeReauthenticationRequired,
		CodeProviderError,
		CodeMethodDisabled,
		CodeInvalidWebhookURL,
		CodeTooLarge,
		CodeStorageError,
		CodeConfigError,
		CodeInternalError,
		CodeMethodNotAllowed,
		CodeTimeout,
	}
}
