//! `/analytics`: one bot's conversations, messages and handoffs per day, how long handoffs wait
//! in the queue, how fast agents answer one, each agent's share, why handoffs closed and who
//! hands conversations back. Rendered on the server, charts included.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::analytics::{Analytics, Spread};
use crate::api::{bot_ids, load_analytics};
use crate::components::bar_chart::{BarChart, Series};
use crate::pages::console::DEFAULT_BOT;

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let params = use_query_map();
    let asked = Memo::new(move |_| {
        let p = params.read();
        let text = |n: &str| p.get(n).filter(|v| !v.trim().is_empty());
        (
            text("bot").unwrap_or_else(|| DEFAULT_BOT.to_string()),
            text("from"),
            text("to"),
        )
    });
    let figures = Resource::new(
        move || asked.get(),
        |(bot, from, to)| load_analytics(bot, from, to),
    );
    let bots = Resource::new(|| (), |_| bot_ids());
    view! {
        <Title text="Analytics · hitl"/>
        <main class="admin analytics">
            <header class="admin-head">
                <a href="/modules/hitl">"← Console"</a>
                <h1>"Analytics"</h1>
                <a href="/history">"History"</a>
            </header>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let bots = bots.await.unwrap_or_default();
                    let (bot, from, to) = asked.get_untracked();
                    let figures = figures.await;
                    let (from, to) = match &figures {
                        Ok(f) => (f.from.to_string(), f.to.to_string()),
                        Err(_) => (from.unwrap_or_default(), to.unwrap_or_default()),
                    };
                    view! {
                        <form class="history-search" method="get" action="/analytics">
                            <div class="filters">
                                <label>"Bot"
                                    <select name="bot">
                                        {bots.into_iter().map(|b| {
                                            let chosen = b == bot;
                                            view! { <option value=b.clone() selected=chosen>{b.clone()}</option> }
                                        }).collect_view()}
                                    </select>
                                </label>
                                <label>"From" <input type="date" name="from" value=from/></label>
                                <label>"To" <input type="date" name="to" value=to/></label>
                                <button type="submit" class="primary">"Show"</button>
                            </div>
                        </form>
                        {match figures {
                            Ok(f) => report(f).into_any(),
                            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        }}
                    }
                })}
            </Suspense>
        </main>
    }
    .into_any()
}

/// "1 min 30 s", "45 s", "2 h 5 min"; "—" when there is nothing to measure.
pub fn seconds_words(seconds: Option<f64>) -> String {
    let Some(s) = seconds else {
        return "—".into();
    };
    let s = s.round() as i64;
    match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => match s % 60 {
            0 => format!("{} min", s / 60),
            rest => format!("{} min {rest} s", s / 60),
        },
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// A close reason as people say it.
fn reason_words(reason: &str) -> String {
    match reason {
        "returned_to_bot" => "Given back to the bot".into(),
        "resolved" => "Resolved".into(),
        "inactivity" => "Nobody wrote (inactivity)".into(),
        "queue_timeout" => "Nobody took it (queue time-out)".into(),
        "agent_offline" => "Its agent went offline".into(),
        other => other.replace('_', " "),
    }
}

fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

fn spread(label: &'static str, s: Spread) -> impl IntoView {
    view! {
        <div class="figure">
            <dt>{label}</dt>
            <dd>
                {format!("median {}", seconds_words(s.median_seconds))}
                <span class="muted">{format!(" · p90 {} · {} handoffs", seconds_words(s.p90_seconds), s.count)}</span>
            </dd>
        </div>
    }
}

fn report(f: Analytics) -> impl IntoView {
    let labels: Vec<String> = f
        .days
        .iter()
        .map(|d| d.day.format("%b %-d").to_string())
        .collect();
    let per_day = |pick: fn(&crate::analytics::DayFigures) -> i64| {
        f.days.iter().map(pick).collect::<Vec<_>>()
    };
    let messages = vec![
        Series {
            name: "user",
            class: "s-user",
            values: per_day(|d| d.messages.user),
        },
        Series {
            name: "bot",
            class: "s-bot",
            values: per_day(|d| d.messages.bot),
        },
        Series {
            name: "agent",
            class: "s-agent",
            values: per_day(|d| d.messages.agent),
        },
        Series {
            name: "system",
            class: "s-system",
            values: per_day(|d| d.messages.system),
        },
    ];
    let handoffs = vec![
        Series {
            name: "handoffs",
            class: "s-handoff",
            values: per_day(|d| d.handoffs),
        },
        Series {
            name: "conversations",
            class: "s-conversation",
            values: per_day(|d| d.conversations - d.handoffs.min(d.conversations)),
        },
    ];
    let r = f.returned_by;
    view! {
        <section class="admin-section" aria-labelledby="summary-title">
            <h2 id="summary-title">{format!("{} · {} to {}", f.bot_id, f.from, f.to)}</h2>
            <dl class="figures">
                <div class="figure"><dt>"Conversations"</dt><dd>{f.conversations}</dd></div>
                <div class="figure"><dt>"Messages"</dt><dd>{f.messages.total()}
                    <span class="muted">{format!(" · user {} · bot {} · agent {} · system {}", f.messages.user, f.messages.bot, f.messages.agent, f.messages.system)}</span></dd></div>
                <div class="figure"><dt>"Handoffs"</dt><dd>{f.handoffs}</dd></div>
                {spread("Pause to first agent reply", f.first_reply)}
                {spread("Handoff duration", f.handoff_duration)}
                {spread("Time in queue", f.queue_time)}
                {spread("Assignment to the agent's first reply", f.first_reply_after_assignment)}
                <div class="figure"><dt>"Returned to the bot by"</dt><dd>
                    {format!("user {} · agent {} · API {}", percent(r.share(r.user)), percent(r.share(r.agent)), percent(r.share(r.api)))}
                    <span class="muted">{format!(" · {} returned, {} still paused", r.returned(), r.still_paused)}</span>
                </dd></div>
            </dl>
        </section>
        <section class="admin-section charts" aria-label="Charts">
            <BarChart title="Messages per day".to_string() labels=labels.clone() series=messages/>
            <BarChart title="Conversations per day (handed to a human, and not)".to_string() labels=labels series=handoffs/>
        </section>
        <section class="admin-section" aria-labelledby="agents-title">
            <h2 id="agents-title">"By agent"</h2>
            {if f.per_agent.is_empty() {
                view! { <p class="muted">"No handoff was given to an agent in this range."</p> }.into_any()
            } else {
                view! {
                    <table class="admin-table">
                        <thead><tr><th>"Agent"</th><th>"Handoffs"</th><th>"First reply, median"</th><th>"p90"</th></tr></thead>
                        <tbody>
                            {f.per_agent.into_iter().map(|a| view! {
                                <tr>
                                    <td>{a.name}</td><td>{a.handoffs}</td>
                                    <td>{seconds_words(a.first_reply.median_seconds)}</td>
                                    <td>{seconds_words(a.first_reply.p90_seconds)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="admin-section" aria-labelledby="reasons-title">
            <h2 id="reasons-title">"Why handoffs closed"</h2>
            {if f.close_reasons.is_empty() {
                view! { <p class="muted">"No handoff closed in this range."</p> }.into_any()
            } else {
                view! {
                    <table class="admin-table">
                        <thead><tr><th>"Reason"</th><th>"Handoffs"</th></tr></thead>
                        <tbody>
                            {f.close_reasons.into_iter().map(|r| view! {
                                <tr><td>{reason_words(&r.reason)}</td><td>{r.count}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="admin-section" aria-labelledby="days-title">
            <h2 id="days-title">"Per day"</h2>
            <table class="admin-table">
                <thead><tr><th>"Day"</th><th>"Conversations"</th><th>"User"</th><th>"Bot"</th><th>"Agent"</th><th>"System"</th><th>"Handoffs"</th></tr></thead>
                <tbody>
                    {f.days.into_iter().rev().map(|d| view! {
                        <tr>
                            <td>{d.day.to_string()}</td><td>{d.conversations}</td><td>{d.messages.user}</td>
                            <td>{d.messages.bot}</td><td>{d.messages.agent}</td><td>{d.messages.system}</td><td>{d.handoffs}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::seconds_words;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(seconds_words(None), "—");
        assert_eq!(seconds_words(Some(45.4)), "45 s");
        assert_eq!(seconds_words(Some(90.0)), "1 min 30 s");
        assert_eq!(seconds_words(Some(120.0)), "2 min");
        assert_eq!(seconds_words(Some(7500.0)), "2 h 5 min");
    }
}
