//! `/history`: search every conversation of one's bots, filter, and open a transcript. The
//! search is a plain GET form, so the page works (and can be bookmarked) before hydration.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::api::{bot_ids, search_history, whoami};
use crate::format::url_escape;
use crate::history::{group_by_session, HistoryHit, HistoryQuery, SnippetPart};
use crate::model::Source;

/// The query a history address asks for (the parameters are the REST API's).
pub fn query_of(params: &ParamsMap) -> HistoryQuery {
    let text = |name: &str| params.get(name).filter(|v| !v.trim().is_empty());
    let flag = |name: &str| text(name).and_then(|v| v.parse::<bool>().ok());
    HistoryQuery {
        q: text("q"),
        bot_id: text("botId"),
        channel: text("channel"),
        from: text("from"),
        to: text("to"),
        source: text("source").and_then(|s| Source::parse(&s)),
        agent: text("agent"),
        handed_off: flag("handedOff"),
        paused_now: flag("pausedNow"),
        session_id: None,
        cursor: text("cursor"),
        limit: None,
    }
}

/// The query string of a query (without its cursor), for links to the next page and exports.
pub fn query_string(query: &HistoryQuery) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let mut put = |name: &'static str, value: Option<String>| {
        if let Some(v) = value {
            pairs.push((name, v));
        }
    };
    put("q", query.q.clone());
    put("botId", query.bot_id.clone());
    put("channel", query.channel.clone());
    put("from", query.from.clone());
    put("to", query.to.clone());
    put("source", query.source.map(|s| s.as_str().to_string()));
    put("agent", query.agent.clone());
    put("handedOff", query.handed_off.map(|b| b.to_string()));
    put("pausedNow", query.paused_now.map(|b| b.to_string()));
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", url_escape(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn transcript_href(bot_id: &str, session_id: i64) -> String {
    format!("/history/{}/{session_id}", url_escape(bot_id))
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| query_of(&params.read()));
    let results = Resource::new(move || query.get(), search_history);
    let bots = Resource::new(|| (), |_| bot_ids());
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <Title text="History · hitl"/>
        <main class="admin history">
            <header class="admin-head">
                <a href="/modules/hitl">"← Console"</a>
                <h1>"History"</h1>
                <a href="/analytics">"Analytics"</a>
            </header>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let bots = bots.await.unwrap_or_default();
                    let is_admin = me.await.map(|v| v.is_admin()).unwrap_or(false);
                    let q = query.get_untracked();
                    view! {
                        <SearchForm query=q.clone() bots/>
                        {is_admin.then(|| export_links(&q))}
                    }
                })}
            </Suspense>
            {params.read_untracked().get("deleted").map(|_| view! {
                <p class="form-note" role="status">"The conversation is deleted."</p>
            })}
            <Suspense fallback=|| view! { <p>"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(page) if page.results.is_empty() => view! {
                            <p class="muted" role="status">"No message matches."</p>
                        }.into_any(),
                        Ok(page) => {
                            let q = query.get_untracked();
                            let next = page.next_cursor.map(|c| {
                                format!("/history?{}&cursor={}", query_string(&q), url_escape(&c))
                            });
                            view! {
                                <section class="history-results" aria-label="Results">
                                    {group_by_session(&page.results).into_iter().map(result_group).collect_view()}
                                </section>
                                {next.map(|href| view! { <a class="next-page" href=href>"More results →"</a> })}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
    .into_any()
}

#[component]
fn SearchForm(query: HistoryQuery, bots: Vec<String>) -> impl IntoView {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let choice = |current: Option<bool>| match current {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    };
    let source = query.source.map(|s| s.as_str()).unwrap_or("");
    let handed = choice(query.handed_off);
    let paused = choice(query.paused_now);
    let channel = value(&query.channel);
    let bot = value(&query.bot_id);
    view! {
        <form class="history-search" method="get" action="/history" role="search">
            <div class="search-line">
                <label for="history-q">"Search messages"</label>
                <input id="history-q" name="q" type="search" value=value(&query.q)
                    placeholder="words, \"a phrase\", prefix*"/>
                <button type="submit" class="primary">"Search"</button>
            </div>
            <div class="filters">
                <label>"Bot"
                    <select name="botId">
                        <option value="">"every bot"</option>
                        {bots.into_iter().map(|b| {
                            let chosen = b == bot;
                            view! { <option value=b.clone() selected=chosen>{b.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Channel"
                    <select name="channel">
                        {options(&[("", "any"), ("api", "Converse API"), ("web", "web chat"), ("messenger", "Messenger")], &channel)}
                    </select>
                </label>
                <label>"From" <input type="date" name="from" value=value(&query.from)/></label>
                <label>"To" <input type="date" name="to" value=value(&query.to)/></label>
                <label>"Said by"
                    <select name="source">
                        {options(&[("", "anyone"), ("user", "user"), ("bot", "bot"), ("agent", "agent"), ("system", "system line")], source)}
                    </select>
                </label>
                <label>"Agent" <input type="text" name="agent" value=value(&query.agent) placeholder="name"/></label>
                <label>"Handed to a human"
                    <select name="handedOff">
                        {options(&[("", "either"), ("true", "yes"), ("false", "never")], handed)}
                    </select>
                </label>
                <label>"Paused now"
                    <select name="pausedNow">
                        {options(&[("", "either"), ("true", "paused"), ("false", "running")], paused)}
                    </select>
                </label>
            </div>
        </form>
    }
    .into_any()
}

fn options(choices: &[(&'static str, &'static str)], current: &str) -> impl IntoView {
    choices
        .iter()
        .map(|(value, label)| {
            let chosen = *value == current;
            view! { <option value=*value selected=chosen>{*label}</option> }
        })
        .collect_view()
}

fn export_links(query: &HistoryQuery) -> impl IntoView {
    let filters = query_string(query);
    let href = |format: &str| format!("/api/v1/history/export?format={format}&{filters}");
    view! {
        <p class="export-links">
            "Export what matches: "
            <a href=href("jsonl") download>"JSON Lines"</a>
            " · "
            <a href=href("csv") download>"CSV"</a>
        </p>
    }
}

/// Who wrote a message, as the history shows it.
pub fn speaker(source: Source, author: Option<&str>, user: &str) -> String {
    match source {
        Source::User => format!("{user} (user)"),
        Source::Bot => "Bot".into(),
        Source::Agent => format!("{} (agent)", author.unwrap_or("agent")),
        Source::System => "hitl".into(),
    }
}

fn result_group(hits: Vec<HistoryHit>) -> impl IntoView {
    let first = hits[0].clone();
    let href = transcript_href(&first.bot_id, first.session_id);
    let name = first.display_name().to_string();
    view! {
        <article class="history-group">
            <h2><a href=href.clone()>{name.clone()}</a></h2>
            <p class="muted">{format!("{} · {} · {}", first.bot_id, first.channel, first.user_id)}</p>
            <ol class="hits">
                {hits.into_iter().map(|hit| {
                    let who = speaker(hit.source, hit.author.as_deref(), &name);
                    let context = format!("{href}#m{}", hit.message_id);
                    let exact = hit.ts.to_rfc3339();
                    let shown = hit.ts.format("%Y-%m-%d %H:%M UTC").to_string();
                    view! {
                        <li class=format!("hit from-{}", hit.source.as_str())>
                            <span class="who">{who}</span>
                            <time datetime=exact>{shown}</time>
                            <p class="snippet">{snippet(hit.snippet_parts)}</p>
                            <a href=context>"In context"</a>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </article>
    }
}

/// The matched words in `<mark>`, all of it as text.
fn snippet(parts: Vec<SnippetPart>) -> impl IntoView {
    parts
        .into_iter()
        .map(|p| {
            if p.hit {
                view! { <mark>{p.text}</mark> }.into_any()
            } else {
                p.text.into_any()
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_and_its_query_string_say_the_same_search() {
        let mut params = ParamsMap::new();
        params.insert("q", "late refund".to_string());
        params.insert("botId", "welcome-bot".to_string());
        params.insert("source", "user".to_string());
        params.insert("handedOff", "true".to_string());
        params.insert("pausedNow", "".to_string());
        params.insert("cursor", "12".to_string());
        let query = query_of(&params);
        assert_eq!(query.q.as_deref(), Some("late refund"));
        assert_eq!(query.source, Some(Source::User));
        assert_eq!(query.handed_off, Some(true));
        assert_eq!(query.paused_now, None);
        assert_eq!(query.cursor.as_deref(), Some("12"));
        assert_eq!(
            query_string(&query),
            "q=late%20refund&botId=welcome-bot&source=user&handedOff=true"
        );
    }
}
