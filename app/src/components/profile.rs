//! The user's profile beside the conversation (collapsible).

use leptos::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::conversation::Opened;
use crate::console::use_console;
use crate::format::relative_time;

#[component]
pub fn ProfilePane(open: RwSignal<bool>, opened: Opened) -> impl IntoView {
    let console = use_console();
    view! {
        <aside id="profile" class="profile" aria-label="User profile" hidden=move || !open.get()>
            <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
            // Rendered once the open session is known, so server and browser agree.
            if let Ok(Some(o)) = opened.await {
                console.set_current(o.session);
            }
            move || console.current.get().map(|s| {
                let heard = s.last_heard_on;
                view! {
                    <Avatar name=s.display_name().to_string() url=s.avatar_url.clone()/>
                    <h3>{s.display_name().to_string()}</h3>
                    <dl>
                        <dt>"User id"</dt>
                        <dd>{s.user_id.clone()}</dd>
                        <dt>"Channel"</dt>
                        <dd>{s.channel.clone()}</dd>
                        {s.thread_id.clone().map(|t| view! { <dt>"Thread"</dt><dd>{t}</dd> })}
                        <dt>"Last heard"</dt>
                        <dd>{move || heard.map(|h| relative_time(console.now.get(), h)).unwrap_or_else(|| "never".into())}</dd>
                        <dt>"Bot"</dt>
                        <dd>{if s.is_paused { "paused" } else { "answering" }}</dd>
                    </dl>
                }
            })
            })}
            </Suspense>
        </aside>
    }
    .into_any()
}
