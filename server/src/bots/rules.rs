//! The rules bot: a bot's behaviour as data (`bots/<id>.toml`). The first rule whose `when`
//! matches the user's message runs its actions in order. See README "Writing bot rules".

use app::model::{Button, Content, Level, QuickReply};

pub use super::action::Action;
use regex::Regex;
use serde::Deserialize;

/// A parsed bot file.
#[derive(Debug)]
pub struct BotFile {
    pub name: Option<String>,
    pub rules: Rules,
    pub messenger: Option<crate::channels::messenger::Settings>,
    pub external: Option<super::external::Settings>,
    pub handoffs: super::handoffs::Settings,
}

#[derive(Debug, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    when: Vec<Condition>,
    while_paused: bool,
    actions: Vec<Action>,
}

/// Every field that is set must hold; a rule matches when any of its conditions does.
#[derive(Debug, Default)]
struct Condition {
    kind: Option<String>,
    text: Option<String>,
    text_regex: Option<Regex>,
    payload: Option<String>,
    payload_regex: Option<Regex>,
}

/// What the rules decided for one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub actions: Vec<Action>,
}

/// What the placeholders of a rule's texts are filled with.
pub struct Context<'a> {
    pub content: &'a Content,
    pub name: &'a str,
    pub user_id: &'a str,
    pub channel: &'a str,
}

impl Rules {
    /// The actions for this message, or `None` when no rule applies. While the conversation is
    /// paused only rules marked `while_paused` (the user's "resume" command) are considered.
    pub fn decide(&self, ctx: &Context<'_>, paused: bool) -> Option<Decision> {
        let rule = self
            .rules
            .iter()
            .filter(|r| !paused || r.while_paused)
            .find(|r| r.when.iter().any(|c| c.matches(ctx.content)))?;
        Some(Decision {
            actions: rule.actions.iter().map(|a| a.fill(ctx)).collect(),
        })
    }
}

impl Condition {
    fn matches(&self, content: &Content) -> bool {
        let text = content.user_text().map(str::trim);
        let payload = content.user_payload();
        self.kind.as_deref().is_none_or(|k| k == content.kind())
            && self.text.as_deref().is_none_or(|t| text == Some(t))
            && self
                .text_regex
                .as_ref()
                .is_none_or(|r| text.is_some_and(|t| r.is_match(t)))
            && self.payload.as_deref().is_none_or(|p| payload == Some(p))
            && self
                .payload_regex
                .as_ref()
                .is_none_or(|r| payload.is_some_and(|p| r.is_match(p)))
    }
}

impl Action {
    fn fill(&self, ctx: &Context<'_>) -> Action {
        let f = |s: &str| fill(s, ctx);
        match self {
            Action::Reply(content) => Action::Reply(match content {
                Content::Text { text } => Content::Text { text: f(text) },
                Content::Buttons { text, buttons } => Content::Buttons {
                    text: f(text),
                    buttons: buttons.clone(),
                },
                Content::QuickReplies {
                    text,
                    quick_replies,
                } => Content::QuickReplies {
                    text: f(text),
                    quick_replies: quick_replies.clone(),
                },
                other => other.clone(),
            }),
            Action::Notify {
                message,
                level,
                url,
            } => Action::Notify {
                message: f(message),
                level: *level,
                url: url.clone(),
            },
            Action::Pause { reason } => Action::Pause {
                reason: reason.as_deref().map(f),
            },
            Action::Unpause { reason } => Action::Unpause {
                reason: reason.as_deref().map(f),
            },
        }
    }
}

fn fill(template: &str, ctx: &Context<'_>) -> String {
    template
        .replace("{text}", ctx.content.user_text().unwrap_or(""))
        .replace("{payload}", ctx.content.user_payload().unwrap_or(""))
        .replace("{name}", ctx.name)
        .replace("{user.fullName}", ctx.name)
        .replace("{userId}", ctx.user_id)
        .replace("{channel}", ctx.channel)
}

// ---- the file format -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: Option<String>,
    #[serde(default)]
    rules: Vec<RawRule>,
    messenger: Option<crate::channels::messenger::Settings>,
    external: Option<super::external::Settings>,
    #[serde(default)]
    handoffs: super::handoffs::Settings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    when: Vec<RawCondition>,
    #[serde(default)]
    while_paused: bool,
    actions: Vec<RawAction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    kind: Option<String>,
    text: Option<String>,
    text_regex: Option<String>,
    payload: Option<String>,
    payload_regex: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    reply: Option<String>,
    buttons: Option<Vec<Button>>,
    quick_replies: Option<Vec<QuickReply>>,
    image: Option<String>,
    notify: Option<String>,
    level: Option<Level>,
    url: Option<String>,
    pause: Option<String>,
    unpause: Option<String>,
}

/// Parses a bot file; the error says which rule is wrong and why.
pub fn parse_file(text: &str) -> Result<BotFile, String> {
    let raw: RawFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let rules = raw
        .rules
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let label = r.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            compile_rule(r).map_err(|e| format!("rule {label}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if raw.external.is_some() && !rules.is_empty() {
        return Err("a bot has rules or an [external] bot, not both".into());
    }
    raw.handoffs.check()?;
    Ok(BotFile {
        handoffs: raw.handoffs,
        name: raw.name,
        rules: Rules { rules },
        messenger: raw.messenger,
        external: raw.external,
    })
}

fn compile_rule(raw: RawRule) -> Result<Rule, String> {
    if raw.when.is_empty() {
        return Err("`when` needs at least one condition".into());
    }
    let regex = |r: Option<String>| {
        r.map(|r| Regex::new(&r).map_err(|e| format!("bad regex {r:?}: {e}")))
            .transpose()
    };
    let when = raw
        .when
        .into_iter()
        .map(|c| {
            Ok(Condition {
                kind: c.kind,
                text: c.text,
                text_regex: regex(c.text_regex)?,
                payload: c.payload,
                payload_regex: regex(c.payload_regex)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let actions = raw
        .actions
        .into_iter()
        .map(compile_action)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rule {
        when,
        while_paused: raw.while_paused,
        actions,
    })
}

fn compile_action(raw: RawAction) -> Result<Action, String> {
    let set = [
        raw.reply.is_some(),
        raw.image.is_some(),
        raw.notify.is_some(),
        raw.pause.is_some(),
        raw.unpause.is_some(),
    ];
    if set.iter().filter(|s| **s).count() != 1 {
        return Err("each action sets exactly one of reply, image, notify, pause, unpause".into());
    }
    let reason = |r: String| Some(r).filter(|r| !r.trim().is_empty());
    if let Some(text) = raw.reply {
        return Ok(Action::Reply(match (raw.buttons, raw.quick_replies) {
            (Some(_), Some(_)) => {
                return Err("a reply has buttons or quick_replies, not both".into())
            }
            (Some(buttons), None) => Content::Buttons { text, buttons },
            (None, Some(quick_replies)) => Content::QuickReplies {
                text,
                quick_replies,
            },
            (None, None) => Content::Text { text },
        }));
    }
    if let Some(url) = raw.image {
        return Ok(Action::Reply(Content::Image { url, title: None }));
    }
    if let Some(message) = raw.notify {
        return Ok(Action::Notify {
            message,
            level: raw.level.unwrap_or(Level::Info),
            url: raw.url,
        });
    }
    if let Some(r) = raw.pause {
        return Ok(Action::Pause { reason: reason(r) });
    }
    let r = raw.unpause.unwrap_or_default();
    Ok(Action::Unpause { reason: reason(r) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WELCOME: &str = include_str!("../../../bots/welcome-bot.toml");

    fn decide(rules: &Rules, content: Content, paused: bool) -> Option<Vec<Action>> {
        let ctx = Context {
            content: &content,
            name: "Ada",
            user_id: "u1",
            channel: "api",
        };
        rules.decide(&ctx, paused).map(|d| d.actions)
    }

    fn text(t: &str) -> Content {
        Content::Text { text: t.into() }
    }

    #[test]
    fn welcome_bot_echoes_other_text() {
        let rules = parse_file(WELCOME).unwrap().rules;
        assert_eq!(
            decide(&rules, text("hello"), false),
            Some(vec![Action::Reply(text("You said: hello"))])
        );
    }

    #[test]
    fn welcome_bot_hitl_start_replies_with_button_notifies_and_pauses() {
        let rules = parse_file(WELCOME).unwrap().rules;
        let actions = decide(&rules, text("please HITL_START now"), false).unwrap();
        assert_eq!(
            actions[0],
            Action::Reply(Content::Buttons {
                text: "Bot paused, a human will get in touch very soon.".into(),
                buttons: vec![Button {
                    title: "Cancel request".into(),
                    payload: Some("HITL_STOP".into()),
                    url: None
                }],
            })
        );
        assert_eq!(
            actions[1],
            Action::Notify {
                message: "Ada wants to talk to a human".into(),
                level: Level::Info,
                url: Some("/modules/hitl".into())
            }
        );
        assert!(matches!(actions[2], Action::Pause { .. }));
    }

    #[test]
    fn welcome_bot_hitl_stop_works_typed_or_clicked_even_while_paused() {
        let rules = parse_file(WELCOME).unwrap().rules;
        let expected = vec![
            Action::Reply(text("Human in the loop disabled. Bot resumed.")),
            Action::Unpause {
                reason: Some("user cancelled the request".into()),
            },
        ];
        let click = Content::Postback {
            payload: "HITL_STOP".into(),
            title: Some("Cancel request".into()),
        };
        assert_eq!(decide(&rules, click, true), Some(expected.clone()));
        assert_eq!(decide(&rules, text("HITL_STOP"), true), Some(expected));
    }

    #[test]
    fn while_paused_other_messages_reach_no_rule() {
        let rules = parse_file(WELCOME).unwrap().rules;
        assert_eq!(decide(&rules, text("are you there?"), true), None);
        let image = Content::Image {
            url: "https://x/y.png".into(),
            title: None,
        };
        assert_eq!(decide(&rules, image, true), None);
    }

    #[test]
    fn an_action_must_do_exactly_one_thing() {
        let err = parse_file(
            "[[rules]]\nwhen = [{ text = \"a\" }]\nactions = [{ reply = \"x\", pause = \"\" }]",
        )
        .unwrap_err();
        assert!(err.contains("exactly one"), "{err}");
    }

    #[test]
    fn a_bad_regex_names_its_rule() {
        let err = parse_file(
            "[[rules]]\nname = \"broken\"\nwhen = [{ text_regex = \"(\" }]\nactions = []",
        )
        .unwrap_err();
        assert!(
            err.contains("rule broken") && err.contains("bad regex"),
            "{err}"
        );
    }

    #[test]
    fn notify_texts_may_name_the_user_as_in_botpress() {
        let file = "[[rules]]\nwhen = [{ kind = \"text\" }]\nactions = [{ notify = \"{user.fullName} needs help\" }]";
        let rules = parse_file(file).unwrap().rules;
        let actions = decide(&rules, text("hi"), false).unwrap();
        assert!(
            matches!(&actions[0], Action::Notify { message, .. } if message == "Ada needs help")
        );
    }
}
