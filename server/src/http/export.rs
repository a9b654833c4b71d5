//! How an exported message is written: one JSON object a line, or one CSV record a line.

use crate::engine::ExportRow;

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 14] = [
    "sessionId",
    "botId",
    "channel",
    "userId",
    "fullName",
    "messageId",
    "ts",
    "source",
    "author",
    "type",
    "text",
    "payload",
    "segment",
    "handoff",
];

pub fn jsonl_line(row: &ExportRow) -> Vec<u8> {
    let mut line = serde_json::to_vec(row).expect("export rows serialize");
    line.push(b'\n');
    line
}

pub fn csv_header() -> Vec<u8> {
    record(CSV_COLUMNS.iter().map(|c| c.to_string()).collect())
}

pub fn csv_line(row: &ExportRow) -> Vec<u8> {
    let text = |s: &str| defuse(s);
    record(vec![
        row.session_id.to_string(),
        text(&row.bot_id),
        text(&row.channel),
        text(&row.user_id),
        text(row.full_name.as_deref().unwrap_or("")),
        row.message_id.to_string(),
        row.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        row.source.clone(),
        text(row.author.as_deref().unwrap_or("")),
        row.kind.clone(),
        text(&row.text),
        row.payload.clone(),
        row.segment.clone(),
        row.handoff.clone(),
    ])
}

fn record(fields: Vec<String>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&fields).expect("writing to memory");
    writer.into_inner().expect("writing to memory")
}

/// A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as
/// a formula; what users typed must stay text, so such a cell gets a leading `'`.
pub fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_stay_text() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("hello = world"), "hello = world");
        assert_eq!(defuse(""), "");
    }
}
