//! Mail: the `Mailer` trait, its log and SMTP implementations, and templates.
//!
//! Flows never send mail themselves: they queue it in the store's outbox in
//! the same step as the token it carries ([`crate::Emails`]), and a worker
//! hands it to a [`Mailer`]. So a request never waits on SMTP, and an SMTP
//! outage or a restart delays mail but loses none.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::{App, MailTemplate};
use crate::{Error, Result};

/// A message ready to send.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Bodies carry links and codes: keep them out of debug output.
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Something that delivers mail.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Deliver one message. An error means "try again later".
    async fn send(&self, mail: &Mail) -> Result<()>;
}

/// The development mailer: writes each message, link or code included, to the
/// log. Never use it in production: the log then holds sign-in secrets.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &Mail) -> Result<()> {
        tracing::warn!(
            to = %mail.to,
            subject = %mail.subject,
            "DEVELOPMENT MAILER (set TESSERA_SMTP_URL to send real mail):\n{}",
            mail.text
        );
        Ok(())
    }
}

#[cfg(feature = "smtp")]
pub use smtp::SmtpMailer;

#[cfg(feature = "smtp")]
mod smtp {
    use async_trait::async_trait;
    use lettre::message::{Mailbox, MultiPart};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    use super::{Mail, Mailer};
    use crate::{Error, ErrorKind, Result};

    /// Delivers mail through an SMTP server.
    pub struct SmtpMailer {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    }

    impl std::fmt::Debug for SmtpMailer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("SmtpMailer")
                .field("from", &self.from.to_string())
                .finish_non_exhaustive()
        }
    }

    fn percent_decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    impl SmtpMailer {
        /// A mailer for `url`: `smtp://[user:pass@]host[:port]` (STARTTLS
        /// required; port 587 by default), `smtps://…` (implicit TLS, 465), with
        /// `?tls=none` for a plain connection (only for a relay on loopback or
        /// tests) or `?tls=starttls`. `from` is the sender address.
        pub fn from_url(url: &str, from: &str) -> Result<Self> {
            let bad = |why: &str| Error::config(format!("TESSERA_SMTP_URL is invalid: {why}"));
            let (scheme, rest) = url
                .split_once("://")
                .ok_or_else(|| bad("expected smtp://host:port"))?;
            let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
            let (auth, hostport) = match rest.rsplit_once('@') {
                Some((a, h)) => (Some(a), h),
                None => (None, rest),
            };
            let hostport = hostport.trim_end_matches('/');
            let (host, port) = match hostport.rsplit_once(':') {
                Some((h, p)) => (
                    h,
                    Some(
                        p.parse::<u16>()
                            .map_err(|_| bad("the port is not a number"))?,
                    ),
                ),
                None => (hostport, None),
            };
            if host.is_empty() {
                return Err(bad("no host"));
            }
            let tls_mode = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("tls="))
                .unwrap_or(if scheme == "smtps" {
                    "implicit"
                } else {
                    "starttls"
                });
            let tls_params =
                || TlsParameters::new(host.to_owned()).map_err(|e| bad(&e.to_string()));
            let (tls, default_port) = match (scheme, tls_mode) {
                ("smtps", _) => (Tls::Wrapper(tls_params()?), 465),
                ("smtp", "starttls") => (Tls::Required(tls_params()?), 587),
                ("smtp", "none") => (Tls::None, 25),
                ("smtp", other) => {
                    return Err(bad(&format!("tls={other} (expected starttls or none)")));
                }
                (other, _) => return Err(bad(&format!("scheme {other} (expected smtp or smtps)"))),
            };
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(port.unwrap_or(default_port))
                .tls(tls)
                .timeout(Some(std::time::Duration::from_secs(30)));
            if let Some(auth) = auth {
                let (user, pass) = auth.split_once(':').unwrap_or((auth, ""));
                builder = builder
                    .credentials(Credentials::new(percent_decode(user), percent_decode(pass)));
            }
            let from: Mailbox = from.parse().map_err(|_| {
                Error::config(format!("TESSERA_MAIL_FROM {from:?} is not an address"))
            })?;
            Ok(SmtpMailer {
                transport: builder.build(),
                from,
            })
        }
    }

    #[async_trait]
    impl Mailer for SmtpMailer {
        async fn send(&self, mail: &Mail) -> Result<()> {
            let to: Mailbox = mail
                .to
                .parse()
                .map_err(|_| Error::invalid("to", "the recipient is not a valid address"))?;
            let message = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(&mail.subject)
                .multipart(MultiPart::alternative_plain_html(
                    mail.text.clone(),
                    mail.html.clone(),
                ))
                .map_err(Error::internal)?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| Error::new(ErrorKind::Storage).with_source(e))
        }
    }
}

/// Kinds of mail Tessera sends (the keys of per-app template overrides).
pub mod kind {
    /// Verify an address.
    pub const VERIFY_EMAIL: &str = "verify_email";
    /// Reset a password.
    pub const PASSWORD_RESET: &str = "password_reset";
    /// The password was changed.
    pub const PASSWORD_CHANGED: &str = "password_changed";
    /// A one-time sign-in code.
    pub const SIGN_IN_CODE: &str = "sign_in_code";
    /// A magic sign-in link.
    pub const MAGIC_LINK: &str = "magic_link";
    /// Confirm a new address (sent to the new address).
    pub const EMAIL_CHANGE: &str = "email_change";
    /// An address change was requested (sent to the old address).
    pub const EMAIL_CHANGE_NOTICE: &str = "email_change_notice";
    /// The address was changed (sent to the old address).
    pub const EMAIL_CHANGED: &str = "email_changed";
    /// Someone asked for mail for an address without an account.
    pub const UNKNOWN_ADDRESS: &str = "unknown_address";
}

fn builtin(kind: &str) -> (&'static str, &'static str) {
    match kind {
        kind::VERIFY_EMAIL => (
            "Verify your email for {{app_name}}",
            "Confirm that {{email}} is your address for {{app_name}} by opening this link:\n\n{{link}}\n\nIf you did not sign up, ignore this message.",
        ),
        kind::PASSWORD_RESET => (
            "Reset your {{app_name}} password",
            "Someone asked to reset the password of {{email}} on {{app_name}}. To choose a new password, open this link within an hour:\n\n{{link}}\n\nIf it was not you, ignore this message; your password stays as it is.",
        ),
        kind::PASSWORD_CHANGED => (
            "Your {{app_name}} password was changed",
            "The password of {{email}} on {{app_name}} was just changed, and every session was signed out. If this was not you, reset your password now and contact support.",
        ),
        kind::SIGN_IN_CODE => (
            "{{code}} is your {{app_name}} sign-in code",
            "Your {{app_name}} sign-in code is:\n\n{{code}}\n\nIt works once, for 10 minutes. If you did not ask for it, ignore this message.",
        ),
        kind::MAGIC_LINK => (
            "Sign in to {{app_name}}",
            "Open this link to sign in to {{app_name}} as {{email}}. It works once, for 15 minutes:\n\n{{link}}\n\nIf you did not ask for it, ignore this message.",
        ),
        kind::EMAIL_CHANGE => (
            "Confirm your new email for {{app_name}}",
            "Open this link to make {{email}} the address of your {{app_name}} account:\n\n{{link}}\n\nIf you did not ask for this, ignore this message.",
        ),
        kind::EMAIL_CHANGE_NOTICE => (
            "Your {{app_name}} email address is being changed",
            "Someone signed in to your {{app_name}} account asked to change its address from {{email}} to another one. The change happens only when confirmed from the new address. If this was not you, change your password now.",
        ),
        kind::EMAIL_CHANGED => (
            "Your {{app_name}} email address was changed",
            "The address of your {{app_name}} account is no longer {{email}}. If this was not you, contact support now.",
        ),
        _ => (
            "Sign-in attempt at {{app_name}}",
            "Someone tried to use {{email}} with {{app_name}}, but there is no account for this address. If it was you, you can sign up instead. Otherwise ignore this message.",
        ),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn fill(template: &str, vars: &BTreeMap<&str, &str>, escape: bool) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        let v = if escape {
            html_escape(v)
        } else {
            (*v).to_owned()
        };
        out = out.replace(&format!("{{{{{k}}}}}"), &v);
    }
    out
}

/// Render mail of `kind` for `app` (its override, or the built-in template).
pub fn render(
    app: &App,
    kind: &str,
    to: &str,
    link: Option<&str>,
    code: Option<&str>,
) -> Result<Mail> {
    let mut vars = BTreeMap::new();
    vars.insert("app_name", app.name.as_str());
    vars.insert("email", to);
    vars.insert("link", link.unwrap_or(""));
    vars.insert("code", code.unwrap_or(""));
    let (subject, text, html) = match app.settings.mail_templates.get(kind) {
        Some(MailTemplate {
            subject,
            text,
            html,
        }) => (subject.clone(), text.clone(), html.clone()),
        None => {
            let (subject, text) = builtin(kind);
            let mut html = String::from(
                "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5\">",
            );
            for para in text.split("\n\n") {
                if para.trim() == "{{link}}" {
                    html.push_str("<p><a href=\"{{link}}\">{{link}}</a></p>");
                } else if para.trim() == "{{code}}" {
                    html.push_str("<p style=\"font-size:2em;letter-spacing:.2em\"><strong>{{code}}</strong></p>");
                } else {
                    html.push_str(&format!("<p>{para}</p>"));
                }
            }
            html.push_str("</body></html>");
            (subject.to_owned(), text.to_owned(), html)
        }
    };
    let subject = fill(&subject, &vars, false);
    if subject.contains(['\r', '\n']) {
        return Err(Error::invalid(
            "mail_templates",
            "a subject must be one line",
        ));
    }
    Ok(Mail {
        to: to.to_owned(),
        subject,
        text: fill(&text, &vars, false),
        html: fill(&html, &vars, true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppSettings;

    fn app(name: &str) -> App {
        let now = chrono::Utc::now();
        App {
            id: uuid::Uuid::nil(),
            pool_id: uuid::Uuid::nil(),
            slug: "a".into(),
            name: name.into(),
            settings: AppSettings::default(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn templates_fill_and_escape() {
        let m = render(
            &app("Shop <&>"),
            kind::SIGN_IN_CODE,
            "a@example.com",
            None,
            Some("123456"),
        )
        .unwrap();
        assert_eq!(m.subject, "123456 is your Shop <&> sign-in code");
        assert!(m.text.contains("123456"));
        assert!(
            m.html.contains("Shop &lt;&amp;&gt;") && m.html.contains("<strong>123456</strong>")
        );
        let m = render(
            &app("Shop"),
            kind::MAGIC_LINK,
            "a@example.com",
            Some("https://x/?token=tsm_1&a=b"),
            None,
        )
        .unwrap();
        assert!(m.text.contains("https://x/?token=tsm_1&a=b"));
        assert!(m.html.contains("href=\"https://x/?token=tsm_1&amp;a=b\""));
    }

    #[test]
    fn apps_override_templates() {
        let mut a = app("Shop");
        a.settings.mail_templates.insert(
            kind::SIGN_IN_CODE.into(),
            MailTemplate {
                subject: "Code for {{app_name}}".into(),
                text: "c={{code}}".into(),
                html: "<b>{{code}}</b>".into(),
            },
        );
        let m = render(
            &a,
            kind::SIGN_IN_CODE,
            "a@example.com",
            None,
            Some("000111"),
        )
        .unwrap();
        assert_eq!(
            (m.subject.as_str(), m.text.as_str(), m.html.as_str()),
            ("Code for Shop", "c=000111", "<b>000111</b>")
        );
        a.settings
            .mail_templates
            .get_mut(kind::SIGN_IN_CODE)
            .unwrap()
            .subject = "x\r\nBcc: evil@example.com".into();
        assert!(render(&a, kind::SIGN_IN_CODE, "a@example.com", None, Some("1")).is_err());
    }
}
