//! The report: what was measured, printed as a table (with the targets it meets or misses) and
//! written as JSON.

use std::path::Path;

use serde::Serialize;

use crate::bundle::Load;
use crate::cluster::PgReport;
use crate::fanout::FanOut;
use crate::load::Throughput;
use crate::scale::{Reads, Seeded};

#[derive(Debug, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub ingest: Vec<Ingest>,
    pub fanout: Option<FanOut>,
    pub scale: Option<Scale>,
    pub memory: Vec<Memory>,
    pub bundle: Vec<Load>,
    pub postgres: Option<PgReport>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu: String,
}

#[derive(Debug, Serialize)]
pub struct Ingest {
    pub durability: String,
    pub steps: Vec<IngestStep>,
    pub peak_rss_mib: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct IngestStep {
    pub concurrency: usize,
    pub converse: Throughput,
    /// Two messages per round trip: the user's and the bot's answer.
    pub stored_messages_per_sec: f64,
    pub healthz: Throughput,
    /// Converse round trips per second over `/healthz` answers per second.
    pub ratio_of_healthz: f64,
}

#[derive(Debug, Serialize)]
pub struct Scale {
    pub seeded: Seeded,
    pub startup_ms: Option<f64>,
    pub reads: Reads,
}

#[derive(Debug, Serialize)]
pub struct Memory {
    pub when: String,
    pub rss_mib: Option<f64>,
}

impl Memory {
    pub fn new(when: &str, rss_mib: Option<f64>) -> Self {
        Memory {
            when: when.to_string(),
            rss_mib,
        }
    }
}

impl Ingest {
    pub fn new(durability: &str) -> Self {
        Ingest {
            durability: durability.to_string(),
            steps: Vec::new(),
            peak_rss_mib: None,
        }
    }

    pub fn push(&mut self, converse: Throughput, healthz: Throughput) {
        self.steps.push(IngestStep {
            concurrency: converse.concurrency,
            stored_messages_per_sec: converse.per_sec * 2.0,
            ratio_of_healthz: if healthz.per_sec > 0.0 {
                converse.per_sec / healthz.per_sec
            } else {
                0.0
            },
            converse,
            healthz,
        });
    }
}

impl Report {
    pub fn new() -> Self {
        Report {
            machine: Machine::this(),
            ingest: Vec::new(),
            fanout: None,
            scale: None,
            memory: Vec::new(),
            bundle: Vec::new(),
            postgres: None,
        }
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_string_pretty(self).expect("the report serializes");
        std::fs::write(path, json + "\n")
    }

    pub fn print(&self) {
        println!(
            "hitl-bench on {} CPUs ({})",
            self.machine.cpus, self.machine.cpu
        );
        for ingest in &self.ingest {
            println!(
                "\nIngest (Converse round trips), durability {}",
                ingest.durability
            );
            println!(
                "{:>5} {:>10} {:>8} {:>8} {:>8} {:>11} {:>7}",
                "conc", "round/s", "p50 ms", "p99 ms", "max ms", "healthz/s", "ratio"
            );
            for s in &ingest.steps {
                let l = &s.converse.latency;
                println!(
                    "{:>5} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>11.0} {:>6.0}%",
                    s.concurrency,
                    s.converse.per_sec,
                    l.p50_ms,
                    l.p99_ms,
                    l.max_ms,
                    s.healthz.per_sec,
                    s.ratio_of_healthz * 100.0
                );
            }
        }
        if let Some(f) = &self.fanout {
            f.print("Fan-out");
        }
        if let Some(s) = &self.scale {
            println!(
                "\nAt scale: {} sessions, {} messages (seeded in {:.0} s); start-up {}",
                s.seeded.sessions,
                s.seeded.messages,
                s.seeded.seconds,
                s.startup_ms
                    .map_or("-".to_string(), |ms| format!("{ms:.0} ms"))
            );
            s.reads.print();
        }
        if let Some(pg) = &self.postgres {
            pg.print();
        }
        if !self.memory.is_empty() {
            println!("\nServer memory (RSS)");
            for m in &self.memory {
                println!(
                    "  {:<28} {}",
                    m.when,
                    m.rss_mib.map_or("-".to_string(), |v| format!("{v:.1} MiB"))
                );
            }
        }
        if !self.bundle.is_empty() {
            println!("\nRelease bundle: what a browser downloads (wasm and js)");
            for l in &self.bundle {
                println!(
                    "  {:<40} {:>3} files {:>9} bytes, {:>8} gzip",
                    l.pages, l.files, l.raw, l.gzip
                );
            }
        }
    }
}

impl Reads {
    pub fn print(&self) {
        println!(
            "{:<28} {:>8} {:>8} {:>8}",
            "read", "p50 ms", "p99 ms", "max ms"
        );
        for (name, l) in [
            ("sessions, first page", &self.sessions_first_page),
            ("sessions, search by name", &self.sessions_search),
            ("sessions, paused filter", &self.sessions_paused),
            ("a session's newest messages", &self.newest_messages),
            ("history search", &self.history_search),
            ("/modules/hitl (SSR)", &self.console_page),
        ] {
            println!(
                "{name:<28} {:>8.2} {:>8.2} {:>8.2}",
                l.p50_ms, l.p99_ms, l.max_ms
            );
        }
    }
}

impl FanOut {
    pub fn print(&self, what: &str) {
        println!(
            "\n{what}: {} subscribers, {} messages at {}/s: delay p50 {:.2} ms, p99 {:.2} ms, \
             max {:.2} ms; missed {}, duplicated {}, resyncs {}",
            self.subscribers,
            self.messages,
            self.rate_per_sec,
            self.delay.p50_ms,
            self.delay.p99_ms,
            self.delay.max_ms,
            self.missed,
            self.duplicated,
            self.resyncs
        );
    }
}

impl PgReport {
    pub fn print(&self) {
        for ingest in &self.ingest {
            println!(
                "\nPostgreSQL ingest (Converse round trips), {} instance(s) of one database",
                ingest.instances
            );
            println!(
                "{:>5} {:>10} {:>8} {:>8} {:>8}",
                "conc", "round/s", "p50 ms", "p99 ms", "max ms"
            );
            for t in &ingest.steps {
                println!(
                    "{:>5} {:>10.0} {:>8.2} {:>8.2} {:>8.2}",
                    t.concurrency, t.per_sec, t.latency.p50_ms, t.latency.p99_ms, t.latency.max_ms
                );
            }
        }
        if let Some(f) = &self.fanout {
            f.same_instance
                .print("PostgreSQL fan-out, consoles on the sending instance");
            f.cross_instance
                .print("PostgreSQL fan-out, consoles on another instance");
        }
        if let Some(s) = &self.scale {
            println!(
                "\nPostgreSQL at scale: copied by hitl --migrate-to in {:.0} s; start-up {}",
                s.copy_seconds,
                s.startup_ms
                    .map_or("-".to_string(), |ms| format!("{ms:.0} ms"))
            );
            s.reads.print();
            for m in &s.searches {
                println!(
                    "  search {:<26} newest matches: SQLite {}, PostgreSQL {}, {}",
                    m.query,
                    m.sqlite,
                    m.postgres,
                    if m.same { "the same" } else { "DIFFERENT" }
                );
            }
        }
    }
}

impl Machine {
    fn this() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu,
        }
    }
}
