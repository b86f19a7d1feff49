package tessera

import (
	"sort"
	"testing"
)

type errorCodeTable struct {
	Codes []struct {
		Code string `json:"code"`
	} `json:"codes"`
	HTTPOnly []struct {
		Code string `json:"code"`
	} `json:"http_only"`
}

// The Code* constants are exactly the codes the server answers, as listed in
// sdks/testdata/error-codes.json (generated from the server).
func TestAPIErrorCodesMatchTheServerTable(t *testing.T) {
	var table errorCodeTable
	loadJSON(t, "error-codes.json", &table)
	server := map[string]bool{}
	for _, row := range table.Codes {
		server[row.Code] = true
	}
	for _, row := range table.HTTPOnly {
		server[row.Code] = true
	}
	if len(server) < 30 {
		t.Fatalf("read %d codes", len(server))
	}
	ours := map[string]bool{}
	for _, code := range APIErrorCodes() {
		if ours[code] {
			t.Errorf("%s is listed twice", code)
		}
		ours[code] = true
	}
	var missing, unknown []string
	for code := range server {
		if !ours[code] {
			missing = append(missing, code)
		}
	}
	for code := range ours {
		if !server[code] {
			unknown = append(unknown, code)
		}
	}
	sort.Strings(missing)
	sort.Strings(unknown)
	if len(missing) > 0 {
		t.Errorf("APIErrorCodes lacks %v", missing)
	}
	if len(unknown) > 0 {
		t.Errorf("APIErrorCodes has codes the server never answers: %v", unknown)
	}
	if CodeEmailTaken != "email_taken" {
		t.Errorf("CodeEmailTaken = %q", CodeEmailTaken)
	}
}
