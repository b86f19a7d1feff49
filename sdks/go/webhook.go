package tessera

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// WebhookTolerance is how far webhook-timestamp may be from now.
const WebhookTolerance = 5 * time.Minute

const webhookSecretPrefix = "whsec_"

func webhookKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, webhookSecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, newError(ErrInvalidSecret.Code, "a webhook secret is whsec_ followed by base64")
	}
	return key, nil
}

func webhookMAC(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SignWebhook returns the webhook-signature value ("v1,<base64>") of a
// delivery, for tests and tools that play Tessera's part.
func SignWebhook(secret, id string, timestamp time.Time, body []byte) (string, error) {
	key, err := webhookKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(webhookMAC(key, id, timestamp.Unix(), body)), nil
}

// VerifyWebhook checks a webhook delivery from Tessera (Standard Webhooks):
// header must carry webhook-id, webhook-timestamp (within five minutes of
// now) and webhook-signature (one or more space-separated "v1,<base64>"; any
// one matching under secret is enough). body must be the raw request body,
// unparsed. Failures are *Error values: ErrMalformed,
// ErrTimestampOutOfTolerance, ErrInvalidSignature, ErrInvalidSecret.
func VerifyWebhook(secret string, header http.Header, body []byte) error {
	return VerifyWebhookAt(secret, header, body, time.Now())
}

// VerifyWebhookAt is VerifyWebhook at a given time.
func VerifyWebhookAt(secret string, header http.Header, body []byte, now time.Time) error {
	id := header.Get(HeaderWebhookID)
	tsText := header.Get(HeaderWebhookTimestamp)
	sigs := header.Get(HeaderWebhookSignature)
	if id == "" || tsText == "" || sigs == "" {
		return newError(ErrMalformed.Code, "missing webhook-id, webhook-timestamp or webhook-signature")
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(tsText), 10, 64)
	if err != nil {
		return newError(ErrMalformed.Code, "webhook-timestamp is not a number")
	}
	if d := now.Unix() - ts; d > int64(WebhookTolerance/time.Second) || -d > int64(WebhookTolerance/time.Second) {
		return newError(ErrTimestampOutOfTolerance.Code, "webhook-timestamp is more than five minutes off")
	}
	key, err := webhookKey(secret)
	if err != nil {
		return err
	}
	expected := webhookMAC(key, id, ts, body)
	for _, s := range strings.Split(sigs, " ") {
		b64sig, ok := strings.CutPrefix(s, "v1,")
		if !ok {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64sig)
		if err == nil && hmac.Equal(got, expected) {
			return nil
		}
	}
	return newError(ErrInvalidSignature.Code, "no webhook signature matches")
}
