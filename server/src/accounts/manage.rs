//! Managing accounts, for the admin pages and the REST API alike: users (added, changed,
//! deactivated, passwords reset) and API tokens (made for every bot, one bot or a person,
//! revoked). The callers check that an admin asks; the rules of what may change are here.

use app::account::{CreatedToken, Role, TokenInfo, UserInfo, UserWithPassword, Viewer};
use app::model::Actor;

use super::{
    by_email, hash_password, now_ms, AccessChange, AccountError, Accounts, Result, TOUCH_EVERY_MS,
};
use crate::secret::{random_hex, sha256_hex};
use crate::store::accounts::{NewToken, NewUser, User, UserUpdate};

/// Who changes accounts: who they are in the audit log and, when a person asks (signed in or
/// with their token), their own account, which they may not lock out.
#[derive(Debug, Clone)]
pub struct Manager {
    pub actor: Actor,
    pub account: Option<i64>,
}

impl Manager {
    /// A signed-in admin.
    pub fn person(admin: &Viewer) -> Manager {
        Manager {
            actor: by_email(admin),
            account: Some(admin.id),
        }
    }
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub bots: Vec<String>,
}

/// What changes about a user; `None` keeps what is stored.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub bots: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// A token that may be used now, and the person it acts as (active, with their current role
/// and bots) when it belongs to one.
#[derive(Debug, Clone)]
pub struct LiveToken {
    pub info: TokenInfo,
    pub owner: Option<Viewer>,
}

fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AccountError::Invalid(
            "a name of 1 to 80 characters is needed".into(),
        ));
    }
    Ok(name.to_string())
}

/// People and tokens work on bots that exist (`known` are the server's bots).
fn check_bots(bots: &[String], known: &[String]) -> Result<()> {
    match bots.iter().find(|b| !known.contains(b)) {
        Some(unknown) => Err(AccountError::Invalid(format!("there is no bot {unknown}"))),
        None => Ok(()),
    }
}

/// Users.
impl Accounts {
    pub(super) async fn existing_user(&self, id: i64) -> Result<User> {
        self.store
            .user(id)
            .await?
            .ok_or(AccountError::NotFound("user"))
    }

    /// Adds a user with a temporary password, answered to be handed over (it is shown once).
    pub async fn create_user(
        &self,
        by: &Manager,
        new: NewAccount,
        known_bots: &[String],
    ) -> Result<UserWithPassword> {
        let temporary_password = random_hex(8);
        let user = self
            .add_user(by, new, &temporary_password, known_bots)
            .await?;
        Ok(UserWithPassword {
            user,
            temporary_password,
        })
    }

    /// Adds a user with the password the admin chose.
    pub async fn create_user_with_password(
        &self,
        by: &Manager,
        new: NewAccount,
        password: &str,
        known_bots: &[String],
    ) -> Result<UserInfo> {
        self.add_user(by, new, password, known_bots).await
    }

    async fn add_user(
        &self,
        by: &Manager,
        new: NewAccount,
        password: &str,
        known_bots: &[String],
    ) -> Result<UserInfo> {
        let email = new.email.trim();
        if !email.contains('@') || email.len() > 200 || email.chars().any(char::is_whitespace) {
            return Err(AccountError::Invalid("that is not an email address".into()));
        }
        let name = checked_name(&new.name)?;
        check_bots(&new.bots, known_bots)?;
        let user = NewUser {
            email: email.to_string(),
            name,
            password_hash: hash_password(password).await?,
            role: new.role,
            bots: new.bots,
        };
        let user = self.store.create_user(&user).await?;
        self.audit(
            Some(&by.actor),
            "user.created",
            format!("{email} ({})", new.role.as_str()),
            None,
        )
        .await;
        Ok(user.into())
    }

    /// Changes a user's name, role, bots or whether they may sign in; a deactivated user is
    /// signed out at once. Nobody may take away their own admin role or deactivate themselves
    /// (there would be no one left to undo it).
    pub async fn update_user(
        &self,
        by: &Manager,
        id: i64,
        change: AccountChange,
        known_bots: &[String],
    ) -> Result<UserInfo> {
        let before = self.existing_user(id).await?;
        if let Some(bots) = &change.bots {
            check_bots(bots, known_bots)?;
        }
        let update = UserUpdate {
            name: match &change.name {
                Some(name) => checked_name(name)?,
                None => before.viewer.name.clone(),
            },
            role: change.role.unwrap_or(before.viewer.role),
            bots: change.bots.unwrap_or_else(|| before.viewer.bots.clone()),
            active: change.active.unwrap_or(before.active),
        };
        if by.account == Some(id) && (update.role != Role::Admin || !update.active) {
            return Err(AccountError::Invalid(
                "you cannot take away your own admin role or deactivate yourself".into(),
            ));
        }
        let user = self.store.update_user(id, &update).await?;
        if !update.active {
            self.store.delete_login_sessions_of(id, None).await?;
        }
        self.announce(AccessChange::User(id));
        let mut detail = format!(
            "{}: role {} → {}, active {} → {}, bots [{}]",
            user.viewer.email,
            before.viewer.role.as_str(),
            update.role.as_str(),
            before.active,
            update.active,
            update.bots.join(", ")
        );
        if before.viewer.name != update.name {
            detail.push_str(&format!(", name {} → {}", before.viewer.name, update.name));
        }
        self.audit(Some(&by.actor), "user.changed", detail, None)
            .await;
        Ok(user.into())
    }

    /// Sets a temporary password (answered, to be handed over) and signs the user out.
    pub async fn reset_password(&self, by: &Manager, id: i64) -> Result<UserWithPassword> {
        let user = self.existing_user(id).await?;
        let temporary_password = random_hex(8);
        self.store
            .set_password(id, &hash_password(&temporary_password).await?)
            .await?;
        self.store.delete_login_sessions_of(id, None).await?;
        self.announce(AccessChange::User(id));
        self.audit(
            Some(&by.actor),
            "password.reset",
            user.viewer.email.clone(),
            None,
        )
        .await;
        Ok(UserWithPassword {
            user: user.into(),
            temporary_password,
        })
    }
}

/// API tokens.
impl Accounts {
    /// On a first start without `--api-token`, makes a token with full rights; answers its
    /// value (to be printed once).
    pub async fn ensure_first_token(&self, configured: bool) -> Result<Option<String>> {
        if configured || !self.store.tokens().await?.is_empty() {
            return Ok(None);
        }
        let token = random_hex(32);
        let new = NewToken {
            name: "bootstrap".into(),
            token_hash: sha256_hex(&token),
            bot_id: None,
            user_id: None,
            created_by: Some("first start".into()),
        };
        self.store.create_token(&new).await?;
        Ok(Some(token))
    }

    /// The stored token with this value, unless it was revoked or its person deactivated;
    /// notes that it was used.
    pub async fn token(&self, token: &str) -> Result<Option<LiveToken>> {
        let Some(info) = self.store.token_by_hash(&sha256_hex(token)).await? else {
            return Ok(None);
        };
        if info.revoked {
            return Ok(None);
        }
        let owner = match info.user_id {
            None => None,
            Some(id) => match self.store.user(id).await? {
                Some(user) if user.active => Some(user.viewer),
                _ => return Ok(None),
            },
        };
        // A write on every request would queue behind the conversations' writes: note the use
        // only when the stored one is old.
        let stale = info
            .last_used_at
            .is_none_or(|at| now_ms() - at.timestamp_millis() > TOUCH_EVERY_MS);
        if stale {
            self.store.touch_token(info.id).await?;
        }
        Ok(Some(LiveToken { info, owner }))
    }

    /// Makes an API token for `bot_id` (every bot when `None`), acting as the person `user_id`
    /// when given (with their rights, narrowed to `bot_id`); answers it with its value, which
    /// is not stored and so shown this once.
    pub async fn create_token(
        &self,
        by: &Manager,
        name: &str,
        bot_id: Option<String>,
        user_id: Option<i64>,
        known_bots: &[String],
    ) -> Result<CreatedToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AccountError::Invalid(
                "a token needs a name of at most 80 characters".into(),
            ));
        }
        check_bots(bot_id.as_slice(), known_bots)?;
        let owner = match user_id {
            None => None,
            Some(id) => match self.store.user(id).await? {
                None => return Err(AccountError::Invalid(format!("there is no user {id}"))),
                Some(user) if !user.active => {
                    return Err(AccountError::Invalid(format!(
                        "{} is deactivated",
                        user.viewer.email
                    )))
                }
                Some(user) => Some(user.viewer),
            },
        };
        let token = random_hex(32);
        let new = NewToken {
            name: name.to_string(),
            token_hash: sha256_hex(&token),
            bot_id: bot_id.clone(),
            user_id,
            created_by: Some(by.actor.name.clone()),
        };
        let info = self.store.create_token(&new).await?;
        let scope = bot_id.as_deref().unwrap_or("every bot");
        let person = owner
            .map(|o| format!(", as {}", o.email))
            .unwrap_or_default();
        self.audit(
            Some(&by.actor),
            "token.created",
            format!("{name} (#{}, {scope}{person})", info.id),
            None,
        )
        .await;
        Ok(CreatedToken { info, token })
    }

    /// Revokes a token: it is refused from the next request on, and its open sockets close.
    pub async fn revoke_token(&self, by: &Manager, id: i64) -> Result<TokenInfo> {
        let info = self
            .store
            .revoke_token(id)
            .await?
            .ok_or(AccountError::NotFound("token"))?;
        self.announce(AccessChange::Token(id));
        self.audit(
            Some(&by.actor),
            "token.revoked",
            format!("{} (#{id})", info.name),
            None,
        )
        .await;
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(checked_name("  Ada ").unwrap(), "Ada");
        assert!(checked_name("   ").is_err());
        assert!(checked_name(&"x".repeat(81)).is_err());
    }

    #[test]
    fn only_known_bots_may_be_given() {
        let known = vec!["welcome-bot".to_string()];
        assert!(check_bots(&["welcome-bot".into()], &known).is_ok());
        let err = check_bots(&["nope".into()], &known).unwrap_err();
        assert_eq!(err.to_string(), "there is no bot nope");
    }
}
