module github.com/tessera-auth/tessera/sdks/go

go 1.25

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/standard-webhooks/standard-webhooks/libraries v0.0.1
)
