//! Web chat visitors: created on their first visit, proven by their secret, named by themselves.

use app::chat::wire::NAME_MAX_CHARS;
use app::model::Profile;

use super::{Engine, EngineError, Result};
use crate::channels::web;
use crate::store::Visitor;

impl Engine {
    /// A new visitor of the bot; answers the visitor and the secret their browser keeps.
    pub async fn create_visitor(
        &self,
        bot_id: &str,
        name: Option<&str>,
    ) -> Result<(Visitor, String)> {
        self.bot(bot_id)?;
        let name = clean_name(name)?;
        let (visitor, secret) = web::new_visitor(bot_id, name);
        self.store.create_visitor(&visitor).await?;
        Ok((visitor, secret))
    }

    /// The visitor when `secret` is theirs and they belong to `bot_id`; `None` otherwise, with no
    /// hint of which part was wrong.
    pub async fn authenticate_visitor(
        &self,
        bot_id: &str,
        visitor_id: &str,
        secret: &str,
    ) -> Result<Option<Visitor>> {
        self.bot(bot_id)?;
        let visitor = self.store.visitor(visitor_id).await?;
        Ok(visitor.filter(|v| v.bot_id == bot_id && web::secret_matches(v, secret)))
    }

    /// Sets (or with an empty name clears) the visitor's display name; the agents see it on the
    /// conversation at once.
    pub async fn rename_visitor(&self, visitor: &Visitor, name: &str) -> Result<Option<String>> {
        let name = clean_name(Some(name))?;
        self.store
            .set_visitor_name(&visitor.id, name.as_deref())
            .await?;
        let key = web::session_key(&visitor.bot_id, &visitor.id);
        if let (Some(session), Some(_)) = (self.store.session_by_key(&key).await?, &name) {
            let profile = Profile {
                full_name: name.clone(),
                avatar_url: None,
            };
            self.update_profile(&visitor.bot_id, session.id, &profile)
                .await?;
        }
        Ok(name)
    }
}

fn clean_name(name: Option<&str>) -> Result<Option<String>> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    match name {
        Some(n) if n.chars().count() > NAME_MAX_CHARS => Err(EngineError::Invalid(format!(
            "a name must not be longer than {NAME_MAX_CHARS} characters"
        ))),
        Some(n) if n.chars().any(char::is_control) => Err(EngineError::Invalid(
            "a name must not contain control characters".into(),
        )),
        n => Ok(n.map(str::to_string)),
    }
}
