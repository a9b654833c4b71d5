//! A stacked bar chart drawn as SVG on the server: readable without JavaScript, with the exact
//! figure of every bar in its tooltip.

use leptos::prelude::*;

/// One stacked part of every bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: &'static str,
    /// The CSS class that colours it.
    pub class: &'static str,
    pub values: Vec<i64>,
}

/// A rectangle of the chart, in the chart's own units.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub class: &'static str,
    pub title: String,
}

pub const WIDTH: f64 = 600.0;
pub const HEIGHT: f64 = 160.0;

/// The rectangles of stacked bars, one column per label, scaled so the tallest fills `HEIGHT`.
pub fn bars(labels: &[String], series: &[Series]) -> (Vec<Bar>, i64) {
    let totals: Vec<i64> = (0..labels.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let column = WIDTH / labels.len().max(1) as f64;
    let width = (column * 0.8).max(1.0);
    let mut out = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let mut top = HEIGHT;
        for s in series {
            let value = s.values.get(i).copied().unwrap_or(0);
            if value == 0 {
                continue;
            }
            let height = value as f64 / max as f64 * HEIGHT;
            top -= height;
            out.push(Bar {
                x: i as f64 * column + (column - width) / 2.0,
                y: top,
                width,
                height,
                class: s.class,
                title: format!("{label}: {value} {}", s.name),
            });
        }
    }
    (out, max)
}

#[component]
pub fn BarChart(title: String, labels: Vec<String>, series: Vec<Series>) -> impl IntoView {
    let (rects, max) = bars(&labels, &series);
    let first = labels.first().cloned().unwrap_or_default();
    let last = labels.last().cloned().unwrap_or_default();
    view! {
        <figure class="chart">
            <figcaption>{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {}", HEIGHT + 18.0) role="img" aria-label=title
                preserveAspectRatio="none">
                <line x1="0" y1=HEIGHT x2=WIDTH y2=HEIGHT class="axis"/>
                {rects.into_iter().map(|b| view! {
                    <rect x=b.x y=b.y width=b.width height=b.height class=b.class>
                        <title>{b.title}</title>
                    </rect>
                }).collect_view()}
                <text x="0" y=HEIGHT + 14.0 class="tick">{first}</text>
                <text x=WIDTH y=HEIGHT + 14.0 class="tick end">{last}</text>
                <text x="0" y="10" class="tick">{format!("max {max}")}</text>
            </svg>
            <p class="legend">
                {series.iter().map(|s| view! {
                    <span class="legend-item"><span class=format!("swatch {}", s.class)></span>{s.name}</span>
                }).collect_view()}
            </p>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_and_the_tallest_fills_the_chart() {
        let labels = vec!["d1".to_string(), "d2".to_string()];
        let series = vec![
            Series {
                name: "user",
                class: "s-user",
                values: vec![2, 1],
            },
            Series {
                name: "bot",
                class: "s-bot",
                values: vec![2, 0],
            },
        ];
        let (rects, max) = bars(&labels, &series);
        assert_eq!(max, 4);
        assert_eq!(rects.len(), 3, "no rectangle for a zero");
        assert_eq!((rects[0].y, rects[0].height), (HEIGHT / 2.0, HEIGHT / 2.0));
        assert_eq!((rects[1].y, rects[1].height), (0.0, HEIGHT / 2.0));
        assert_eq!(rects[2].height, HEIGHT / 4.0);
        assert_eq!(rects[1].title, "d1: 2 bot");
        assert!(rects[2].x > rects[0].x);
    }
}
