// Hand-written companions to the generated bindings (same package).
//
// uniffi puts `code` and `detail` on each subclass of the sealed
// TesseraException; these extension properties make them readable on the base
// type, so `catch (e: TesseraException) { e.code }` works. The `when`s are
// exhaustive: adding a variant in Rust without listing it here fails the build.
package dev.tessera

/** The stable machine code, e.g. `invalid_credentials` (the core's `ErrorKind::code`). */
val TesseraException.code: String
    get() = when (this) {
        is TesseraException.InvalidCredentials -> code
        is TesseraException.RateLimited -> code
        is TesseraException.EmailTaken -> code
        is TesseraException.InvalidToken -> code
        is TesseraException.TokenExpired -> code
        is TesseraException.RefreshTokenReused -> code
        is TesseraException.SessionExpired -> code
        is TesseraException.Unauthenticated -> code
        is TesseraException.Forbidden -> code
        is TesseraException.WeakPassword -> code
        is TesseraException.InvalidEmail -> code
        is TesseraException.InvalidInput -> code
        is TesseraException.NotFound -> code
        is TesseraException.Conflict -> code
        is TesseraException.UserDisabled -> code
        is TesseraException.EmailNotVerified -> code
        is TesseraException.MfaRequired -> code
        is TesseraException.MethodDisabled -> code
        is TesseraException.AccountLinkRequired -> code
        is TesseraException.LastSignInMethod -> code
        is TesseraException.ReauthenticationRequired -> code
        is TesseraException.ProviderFailed -> code
        is TesseraException.Other -> code
    }

/** A human message, safe to show (generic for server errors). */
val TesseraException.detail: String
    get() = when (this) {
        is TesseraException.InvalidCredentials -> detail
        is TesseraException.RateLimited -> detail
        is TesseraException.EmailTaken -> detail
        is TesseraException.InvalidToken -> detail
        is TesseraException.TokenExpired -> detail
        is TesseraException.RefreshTokenReused -> detail
        is TesseraException.SessionExpired -> detail
        is TesseraException.Unauthenticated -> detail
        is TesseraException.Forbidden -> detail
        is TesseraException.WeakPassword -> detail
        is TesseraException.InvalidEmail -> detail
        is TesseraException.InvalidInput -> detail
        is TesseraException.NotFound -> detail
        is TesseraException.Conflict -> detail
        is TesseraException.UserDisabled -> detail
        is TesseraException.EmailNotVerified -> detail
        is TesseraException.MfaRequired -> detail
        is TesseraException.MethodDisabled -> detail
        is TesseraException.AccountLinkRequired -> detail
        is TesseraException.LastSignInMethod -> detail
        is TesseraException.ReauthenticationRequired -> detail
        is TesseraException.ProviderFailed -> detail
        is TesseraException.Other -> detail
    }

/** The token to finish this sign-in with (`completeMfaWithTotp`, …); never in `message`. */
val TesseraException.MfaRequired.mfaToken: String
    get() = challenge.mfaToken

/** How this sign-in can be finished: `totp`, `recovery_code`, `passkey`, or `totp_enroll`. */
val TesseraException.MfaRequired.methods: List<String>
    get() = challenge.methods
