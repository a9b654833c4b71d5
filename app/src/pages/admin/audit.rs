//! The security audit log: sign-ins and failures, user, role and token changes; newest first.

use leptos::prelude::*;

use super::error_text;
use crate::account::{AuditQuery, AuditRecord};
use crate::api::audit_log;

#[component]
pub fn Audit() -> impl IntoView {
    let before = RwSignal::new(None::<i64>);
    let page = Resource::new(
        move || before.get(),
        |before| {
            audit_log(AuditQuery {
                before,
                ..Default::default()
            })
        },
    );
    let rows = |list: Vec<AuditRecord>| {
        list.into_iter()
            .map(|r| {
                let exact = r.ts.to_rfc3339();
                view! {
                    <tr>
                        <td><time datetime=exact.clone()>{r.ts.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</time></td>
                        <td>{r.actor.unwrap_or_default()}</td>
                        <td>{r.action}</td>
                        <td>{r.detail}</td>
                        <td>{r.address.unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="admin-section" aria-labelledby="audit-title">
            <h2 id="audit-title">"Audit log"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <p class="form-error">{error_text(&e)}</p> }.into_any(),
                        Ok(list) => {
                            let oldest = list.last().map(|r| r.id);
                            let full = list.len() >= 100;
                            view! {
                                <table class="admin-table">
                                    <thead>
                                        <tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Detail"</th><th>"Address"</th></tr>
                                    </thead>
                                    <tbody>{rows(list)}</tbody>
                                </table>
                                {(full && oldest.is_some()).then(|| view! {
                                    <button type="button" on:click=move |_| before.set(oldest)>"Older entries"</button>
                                })}
                            }
                            .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}
