//! The pages loaded lazily: admin, history, analytics and a transcript. With `cargo leptos build
//! --split` each one's code is its own chunk of the browser bundle, fetched when the page is first
//! shown, so the console and a visitor's chat (the main bundle) do not carry it. The server renders
//! them as before and names the chunks a page needs, so the browser fetches them with the main
//! bundle. The console and the chat stay in the main bundle: split too, the console needed 60
//! files and more bytes than the one bundle did (measured, README "Performance").

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::pages;

/// A route type whose view is the page component `$page`, loaded when first shown.
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        #[derive(Clone, Copy)]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

lazy_page!(AdminRoute, pages::admin::AdminPage);
lazy_page!(HistoryRoute, pages::history::HistoryPage);
lazy_page!(AnalyticsRoute, pages::analytics::AnalyticsPage);
lazy_page!(TranscriptRoute, pages::transcript::TranscriptPage);
