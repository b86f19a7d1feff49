//! The audit log.

use std::sync::Arc;

use serde_json::json;

use super::super::fixtures::*;
use crate::model::{AuditEvent, AuditQuery};
use crate::new_id;
use crate::store::Store;

/// Events round-trip exactly (every field, adversarial data, extreme times).
pub async fn audit_events_round_trip(store: Arc<dyn Store>) {
    let audit = store.audit();
    let mut full = audit_event(ADVERSARIAL[0], earliest());
    full.pool_id = Some(new_id(stamp()));
    full.app_id = Some(new_id(stamp()));
    full.user_id = Some(new_id(stamp()));
    full.session_id = Some(new_id(stamp()));
    full.ip = Some("2001:db8::ffff".into());
    full.user_agent = Some(ADVERSARIAL[9].into());
    full.data = max_metadata();
    let mut last = audit_event("user.updated", latest());
    last.data = json!({ "fields": ["email"], "note": ADVERSARIAL[6] });
    audit.append_event(&full).await.unwrap();
    audit.append_event(&last).await.unwrap();
    let all = audit
        .list_events(&AuditQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all, vec![last, full]);
}

/// Paging newest first with `before` = the last id of each page visits every
/// event once; filters by user, app, pool, kind, `since` (inclusive) and
/// `until` (exclusive) each select exactly their events.
pub async fn audit_list_pages_newest_first_and_filters(store: Arc<dyn Store>) {
    let audit = store.audit();
    let (u1, u2) = (new_id(stamp()), new_id(stamp()));
    let (a1, a2) = (new_id(stamp()), new_id(stamp()));
    let (p1, p2) = (new_id(stamp()), new_id(stamp()));
    let mut events: Vec<AuditEvent> = Vec::new();
    for i in 0..23i64 {
        let kind = if i % 3 == 0 {
            "sign_in.failed"
        } else {
            "sign_in.succeeded"
        };
        let mut e = audit_event(kind, at(i * 10));
        e.user_id = Some(if i % 2 == 0 { u1 } else { u2 });
        e.app_id = Some(if i % 4 == 0 { a1 } else { a2 });
        e.pool_id = Some(if i < 12 { p1 } else { p2 });
        e.data = json!({ "i": i });
        audit.append_event(&e).await.unwrap();
        events.push(e);
    }
    let newest_first: Vec<AuditEvent> = events.iter().rev().cloned().collect();
    let mut seen = Vec::new();
    let mut before = None;
    let mut sizes = Vec::new();
    loop {
        let page = audit
            .list_events(&AuditQuery {
                before,
                limit: 5,
                ..Default::default()
            })
            .await
            .unwrap();
        sizes.push(page.len());
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        seen.extend(page);
        assert!(sizes.len() < 10, "paging does not end");
    }
    assert_eq!(sizes, vec![5, 5, 5, 5, 3, 0]);
    assert_eq!(seen, newest_first);

    let q = |f: &dyn Fn(&mut AuditQuery)| {
        let mut q = AuditQuery {
            limit: 1000,
            ..Default::default()
        };
        f(&mut q);
        let store = store.clone();
        async move { store.audit().list_events(&q).await.unwrap() }
    };
    let want = |pred: &dyn Fn(&AuditEvent) -> bool| -> Vec<AuditEvent> {
        newest_first.iter().filter(|e| pred(e)).cloned().collect()
    };
    assert_eq!(
        q(&|q| q.user_id = Some(u1)).await,
        want(&|e| e.user_id == Some(u1))
    );
    assert_eq!(
        q(&|q| q.app_id = Some(a1)).await,
        want(&|e| e.app_id == Some(a1))
    );
    assert_eq!(
        q(&|q| q.pool_id = Some(p2)).await,
        want(&|e| e.pool_id == Some(p2))
    );
    assert_eq!(
        q(&|q| q.kind = Some("sign_in.failed".into())).await,
        want(&|e| e.kind == "sign_in.failed")
    );
    assert_eq!(
        q(&|q| {
            q.since = Some(at(50));
            q.until = Some(at(120));
        })
        .await,
        want(&|e| e.at >= at(50) && e.at < at(120))
    );
    assert_eq!(q(&|q| q.since = Some(at(50))).await.len(), 18);
    assert_eq!(q(&|q| q.until = Some(at(50))).await.len(), 5);
    // Filters combine with each other and with paging.
    let combined = want(&|e| e.user_id == Some(u1) && e.kind == "sign_in.failed");
    assert_eq!(combined.len(), 4);
    let page1 = q(&|q| {
        q.user_id = Some(u1);
        q.kind = Some("sign_in.failed".into());
        q.limit = 3;
    })
    .await;
    assert_eq!(page1, combined[..3]);
    let cursor = page1[2].id;
    let page2 = q(&|q| {
        q.user_id = Some(u1);
        q.kind = Some("sign_in.failed".into());
        q.before = Some(cursor);
        q.limit = 3;
    })
    .await;
    assert_eq!(page2, combined[3..]);
    assert!(
        q(&|q| q.kind = Some("'; DROP TABLE audit; --".into()))
            .await
            .is_empty()
    );
}
