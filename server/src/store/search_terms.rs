//! What a person typed into a history search, read once for both stores: words and `"quoted
//! phrases"` (letters and digits only, so no query syntax survives), each a prefix when a `*`
//! follows it. Each store writes its own query language from these terms.

/// One thing to find: a word, or a phrase's words in order; the last one a prefix if marked.
#[derive(Debug, PartialEq)]
pub struct Term {
    pub words: Vec<String>,
    pub prefix: bool,
}

/// The terms of what was typed; empty when nothing searchable is left.
pub fn terms(input: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut term = String::new();
        if c == '"' {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                term.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                term.push(c);
                chars.next();
            }
        }
        let prefix = term.ends_with('*') || chars.peek() == Some(&'*');
        if chars.peek() == Some(&'*') {
            chars.next();
        }
        let words = words(term.trim_end_matches('*'));
        if !words.is_empty() {
            terms.push(Term { words, prefix });
        }
    }
    terms
}

/// The words of `s`: runs of letters and digits.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(words: &[&str], prefix: bool) -> Term {
        Term {
            words: words.iter().map(|w| w.to_string()).collect(),
            prefix,
        }
    }

    #[test]
    fn words_phrases_and_prefixes_are_read_and_syntax_is_dropped() {
        assert_eq!(
            terms("\"my order\" ref* late"),
            vec![
                term(&["my", "order"], false),
                term(&["ref"], true),
                term(&["late"], false)
            ]
        );
        assert_eq!(terms("\"my ord\"*"), vec![term(&["my", "ord"], true)]);
        assert_eq!(
            terms("col:thing NEAR(x"),
            vec![term(&["col", "thing"], false), term(&["NEAR", "x"], false)]
        );
        assert!(terms("  -- ** \"\" ").is_empty());
    }
}
