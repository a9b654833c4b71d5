//! The ingest load: Converse round trips from many simulated users, each answered by the demo
//! bot's echo rule, spread over one or more instances.

use std::time::Duration;

use crate::load::{closed_loop, Throughput};
use crate::BOT;

/// `concurrency` workers for `duration`, worker `w` talking to `bases[w % bases.len()]`.
pub async fn round_trips(
    client: &reqwest::Client,
    bases: &[String],
    token: &str,
    concurrency: usize,
    duration: Duration,
) -> Throughput {
    let (client, bases, token) = (client.clone(), bases.to_vec(), token.to_string());
    closed_loop(concurrency, duration, move |worker, n| {
        // Each worker talks as 100 users in turn: many sessions, each with a history.
        let request = client
            .post(format!(
                "{}/api/v1/bots/{BOT}/converse/c{concurrency}-w{worker}-u{}",
                bases[worker % bases.len()],
                n % 100
            ))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "type": "text", "text": format!("hello {n}") }))
            .send();
        async move {
            let r = request.await.map_err(|e| e.to_string())?;
            let status = r.status();
            let body = r.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() || !body.contains("You said: hello") {
                return Err(format!("converse: {status} {body}"));
            }
            Ok(())
        }
    })
    .await
}
