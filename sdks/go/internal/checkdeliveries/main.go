// Command checkdeliveries checks recorded webhook deliveries with this SDK's
// VerifyWebhook: the end-to-end tests (e2e/webhooks) record what a real
// `tessera serve` sent and run this over it, so the Go SDK is proven against
// real deliveries, not only against its own signer.
//
// It reads the JSON file named by TESSERA_WEBHOOK_DELIVERIES:
// {"secrets": [...], "deliveries": [{"headers": {...}, "body": "..."}]},
// and prints for each delivery, for each secret, "ok" or the error code
// ([["ok", "invalid_signature"], ...]) as JSON on stdout.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"

	tessera "github.com/tessera-auth/tessera/sdks/go"
)

type input struct {
	Secrets    []string `json:"secrets"`
	Deliveries []struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	} `json:"deliveries"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "checkdeliveries:", err)
		os.Exit(1)
	}
}

func run() error {
	raw, err := os.ReadFile(os.Getenv("TESSERA_WEBHOOK_DELIVERIES"))
	if err != nil {
		return err
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		return err
	}
	results := make([][]string, 0, len(in.Deliveries))
	for _, d := range in.Deliveries {
		header := http.Header{}
		for name, value := range d.Headers {
			header.Set(name, value)
		}
		verdicts := make([]string, 0, len(in.Secrets))
		for _, secret := range in.Secrets {
			err := tessera.VerifyWebhook(secret, header, []byte(d.Body))
			var e *tessera.Error
			switch {
			case err == nil:
				verdicts = append(verdicts, "ok")
			case errors.As(err, &e):
				verdicts = append(verdicts, e.Code)
			default:
				return err
			}
		}
		results = append(results, verdicts)
	}
	return json.NewEncoder(os.Stdout).Encode(results)
}
