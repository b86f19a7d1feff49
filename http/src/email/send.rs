//! Starting a "send" flow without revealing whether the address has an
//! account: only the checks that do not depend on the account run before
//! the answer; the lookup, the token and the queued mail happen afterwards.

use tessera_core::model::App;
use tessera_core::{Emails, SendFlow};

use crate::extract::Client;
use crate::limits::Action;
use crate::state::AppState;

/// Start a "send" flow whose answer must not reveal whether `email` has an
/// account: the per-IP limit and the account-independent checks
/// ([`Emails::check_send`]) run now and may fail; the rest runs after the
/// caller has its answer, and a failure there is only logged.
pub(super) async fn send_after_answer(
    state: &AppState,
    app: &App,
    flow: SendFlow,
    email: &str,
    client: &Client,
) -> tessera_core::Result<()> {
    state
        .check_limits(Action::MailSend, &client.0, None)
        .await?;
    let email = Emails::check_send(app, &flow, email)?;
    let (tessera, app, client) = (state.tessera.clone(), app.clone(), client.0.clone());
    tokio::spawn(async move {
        if let Err(e) = tessera.emails().send(&app, &flow, &email, &client).await {
            tracing::warn!(error = %e, flow = ?flow, "send flow failed");
        }
    });
    Ok(())
}
