//! The notifications bell: unread count, the newest notifications, mark read, desktop alerts.

use leptos::prelude::*;

use crate::api::{list_notifications, read_all_notifications, read_notification};
use crate::browser::{self, DesktopPermission};
use crate::console::{session_href, use_console};
use crate::format::relative_time;
use crate::state::{title, Bell};
use leptos_meta::Title;

#[component]
pub fn NotificationBell() -> impl IntoView {
    let console = use_console();
    let bell = console.bell;
    let open = RwSignal::new(false);
    let permission = RwSignal::new(DesktopPermission::Unsupported);
    Effect::new(move |_| permission.set(browser::desktop_permission()));
    let loaded = Resource::new(move || console.reload.get(), |_| list_notifications());

    // `try_`: the page's title outlives the console and may ask after the bell is gone.
    let unread = move || bell.try_read().map(|b| b.unread).unwrap_or(0);
    let label = move || match unread() {
        0 => "Notifications".to_string(),
        n => format!("Notifications, {n} unread"),
    };
    let mark_all = move |_| {
        bell.update(Bell::mark_all_read);
        leptos::task::spawn_local(async move {
            let _ = read_all_notifications().await;
        });
    };
    view! {
        <div class="bell">
            // Everything that shows the bell's state renders once it is loaded, on the server
            // and in the browser alike, so hydration finds what the server wrote.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    if let Ok(list) = loaded.await {
                        bell.update(|b| b.load(list.notifications, list.unread_count));
                    }
                    view! {
            <Title text=move || title(unread())/>
            <button
                class="bell-button"
                aria-label=label
                aria-expanded=move || open.get().to_string()
                aria-controls="bell-panel"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <svg class="bell-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path d="M12 3a6 6 0 0 0-6 6v3.6L4.3 16h15.4L18 12.6V9a6 6 0 0 0-6-6zm-2.2 15a2.2 2.2 0 0 0 4.4 0z" fill="currentColor"/>
                </svg>
                <Show when=move || { unread() > 0 }>
                    <span class="bell-count" aria-hidden="true">{unread}</span>
                </Show>
            </button>
            <div id="bell-panel" class="bell-panel" role="region" aria-label="Notification list" hidden=move || !open.get()>
                <div class="bell-actions">
                    <button on:click=mark_all disabled=move || unread() == 0>"Mark all read"</button>
                    <Show when=move || permission.get() == DesktopPermission::Default>
                        <button on:click=move |_| browser::ask_desktop_permission(move |p| permission.set(p))>
                            "Enable desktop alerts"
                        </button>
                    </Show>
                </div>
                <ul class="bell-list">
                    <For each=move || bell.get().items key=|n| (n.id, n.read) let:n>
                        <li class=format!("bell-item level-{}", n.level.as_str()) class:unread=!n.read>
                            <a
                                href=notification_href(&n)
                                on:click=move |_| {
                                    let id = n.id;
                                    bell.update(|b| b.mark_read(id));
                                    open.set(false);
                                    leptos::task::spawn_local(async move {
                                        let _ = read_notification(id).await;
                                    });
                                }
                            >
                                <span class="bell-message">{n.message.clone()}</span>
                                <time datetime=n.created_at.to_rfc3339()>
                                    {move || relative_time(console.now.get(), n.created_at)}
                                </time>
                            </a>
                        </li>
                    </For>
                </ul>
                <Show when=move || bell.read().items.is_empty()>
                    <p class="muted empty">"No notifications."</p>
                </Show>
            </div>
                    }
                })}
            </Suspense>
        </div>
    }
    .into_any()
}

/// Where a notification leads: its session when it has one, else its own url (same site only).
fn notification_href(n: &crate::model::Notification) -> String {
    match (n.session_id, n.url.as_deref()) {
        (Some(id), _) => session_href(&n.bot_id, id),
        (None, Some(url)) if url.starts_with('/') && !url.starts_with("//") => url.to_string(),
        _ => "/modules/hitl".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Level, Notification};

    fn n(session_id: Option<i64>, url: Option<&str>) -> Notification {
        Notification {
            id: 1,
            bot_id: "welcome-bot".into(),
            message: "m".into(),
            level: Level::Info,
            url: url.map(str::to_string),
            session_id,
            recipient_id: None,
            read: false,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_notification_leads_to_its_session_or_a_local_page() {
        assert_eq!(
            notification_href(&n(Some(4), Some("/modules/hitl"))),
            "/modules/hitl?bot=welcome-bot&session=4"
        );
        assert_eq!(
            notification_href(&n(None, Some("/modules/hitl?x=1"))),
            "/modules/hitl?x=1"
        );
        assert_eq!(
            notification_href(&n(None, Some("//evil.example"))),
            "/modules/hitl"
        );
        assert_eq!(
            notification_href(&n(None, Some("javascript:alert(1)"))),
            "/modules/hitl"
        );
    }
}
