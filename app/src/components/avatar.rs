//! A user's picture, or their initials when there is none (or it is not an http(s) address).

use leptos::prelude::*;

use crate::components::message_view::is_web_url;

#[component]
pub fn Avatar(name: String, url: Option<String>) -> impl IntoView {
    match url.filter(|u| is_web_url(u)) {
        Some(url) => {
            view! { <img class="avatar" src=url alt="" referrerpolicy="no-referrer"/> }.into_any()
        }
        None => {
            view! { <span class="avatar" aria-hidden="true">{initials(&name)}</span> }.into_any()
        }
    }
}

/// Up to two initials for the avatar placeholder.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("ada lovelace byron"), "AL");
        assert_eq!(initials("u-42"), "U");
        assert_eq!(initials(""), "");
    }
}
