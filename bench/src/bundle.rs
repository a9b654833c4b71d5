//! What a browser downloads for each page of the release bundle. With `--split` the main module
//! (the console, the visitor's chat, sign-in and account) loads alone; a lazily loaded page adds
//! the modules `__wasm_split_manifest.json` lists for it: its own and the chunks it shares.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::BenchError;

#[derive(Debug, Clone, Serialize)]
pub struct Load {
    /// The pages this load is for.
    pub pages: String,
    pub files: usize,
    pub raw: u64,
    pub gzip: u64,
}

/// The main load, one per lazily loaded page, and every file of the bundle together.
pub fn loads(pkg: &Path) -> Result<Vec<Load>, BenchError> {
    let mut main = vec!["hitl.wasm".to_string(), "hitl.js".to_string()];
    // Each lazy page's list names its own module (`split_…`) and the chunks it shares.
    let mut lazy: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let manifest = pkg.join("__wasm_split_manifest.json");
    if manifest.exists() {
        main.push("__wasm_split.______________________.js".into());
        let text = std::fs::read_to_string(&manifest)?;
        let modules: BTreeMap<String, Vec<String>> = serde_json::from_str(&text)
            .map_err(|e| BenchError::Setup(format!("{}: {e}", manifest.display())))?;
        for (module, chunks) in modules {
            let files = chunks.iter().map(|c| format!("{c}.wasm")).collect();
            lazy.insert(page_name(&module), files);
        }
    }
    let everything: BTreeSet<&String> = main.iter().chain(lazy.values().flatten()).collect();
    let mut sizes = BTreeMap::new();
    for &file in &everything {
        sizes.insert(file, file_size(&pkg.join(file))?);
    }
    let load = |pages: String, files: Vec<&String>| Load {
        pages,
        files: files.len(),
        raw: files.iter().map(|f| sizes[f].0).sum(),
        gzip: files.iter().map(|f| sizes[f].1).sum(),
    };
    let mut loads = vec![load(
        "main: console, chat, sign-in, account".into(),
        main.iter().collect(),
    )];
    for (page, files) in &lazy {
        loads.push(load(
            format!("{page} (lazy)"),
            main.iter().chain(files).collect(),
        ));
    }
    loads.push(load(
        "every file of the bundle".into(),
        everything.iter().copied().collect(),
    ));
    Ok(loads)
}

/// `__admin_route_view_1207…` → `admin`.
fn page_name(module: &str) -> String {
    let name = module.trim_start_matches('_');
    name.split_once("_route_view")
        .map_or(name, |(page, _)| page)
        .to_string()
}

fn file_size(path: &Path) -> Result<(u64, u64), BenchError> {
    let raw = std::fs::read(path).map_err(|e| {
        BenchError::Setup(format!(
            "{}: {e} (build with `cargo leptos build --release --split`)",
            path.display()
        ))
    })?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&raw)?;
    Ok((raw.len() as u64, gz.finish()?.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_module_is_named_after_its_page() {
        assert_eq!(
            page_name("__admin_route_view_12073722883787341827"),
            "admin"
        );
        assert_eq!(page_name("__transcript_route_view_1"), "transcript");
    }

    #[test]
    fn a_lazy_page_loads_the_main_files_and_its_own() {
        let dir = tempfile::tempdir().unwrap();
        for (name, len) in [
            ("hitl.wasm", 100),
            ("hitl.js", 10),
            ("__wasm_split.______________________.js", 1),
            ("split___admin_route_view_7.wasm", 50),
            ("chunk_1.wasm", 5),
        ] {
            std::fs::write(dir.path().join(name), vec![b'x'; len]).unwrap();
        }
        std::fs::write(
            dir.path().join("__wasm_split_manifest.json"),
            r#"{"__admin_route_view_7":["chunk_1","split___admin_route_view_7"]}"#,
        )
        .unwrap();
        let loads = loads(dir.path()).unwrap();
        let raw: Vec<(usize, u64)> = loads.iter().map(|l| (l.files, l.raw)).collect();
        assert_eq!(raw, [(3, 111), (5, 166), (5, 166)]);
        assert_eq!(loads[1].pages, "admin (lazy)");
    }
}
