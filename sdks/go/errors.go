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
