//! When secrets were introduced: the dates of the commits that introduced history findings,
//! counted per day, month or year (whichever gives a readable number of bars) and drawn as an
//! inline SVG bar chart, each bar split into secrets still in HEAD and secrets only in history.

use std::io::{self, Write};

use jiff::civil::Date;
use jiff::ToSpan;

use super::data::Data;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Day,
    Month,
    Year,
}

/// One bar: secrets introduced in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub start: Date,
    pub in_head: usize,
    pub removed: usize,
}

impl Bucket {
    fn total(&self) -> usize {
        self.in_head + self.removed
    }
}

fn start_of(unit: Unit, d: Date) -> Date {
    match unit {
        Unit::Day => d,
        Unit::Month => d.first_of_month(),
        Unit::Year => d.first_of_year(),
    }
}

fn next(unit: Unit, d: Date) -> Option<Date> {
    match unit {
        Unit::Day => d.checked_add(1.day()).ok(),
        Unit::Month => d.checked_add(1.month()).ok(),
        Unit::Year => d.checked_add(1.year()).ok(),
    }
}

fn label(unit: Unit, d: Date) -> String {
    match unit {
        Unit::Day => d.strftime("%Y-%m-%d").to_string(),
        Unit::Month => d.strftime("%Y-%m").to_string(),
        Unit::Year => d.strftime("%Y").to_string(),
    }
}

/// The bars for `dates` (a date and whether that secret is still in HEAD), every period from
/// the first to the last, empty ones included, so the axis is linear in time.
pub fn buckets(dates: &[(Date, bool)]) -> (Unit, Vec<Bucket>) {
    let (Some(min), Some(max)) = (
        dates.iter().map(|d| d.0).min(),
        dates.iter().map(|d| d.0).max(),
    ) else {
        return (Unit::Day, Vec::new());
    };
    let months =
        (max.year() as i32 - min.year() as i32) * 12 + max.month() as i32 - min.month() as i32;
    let unit = if (max - min).get_days() <= 62 {
        Unit::Day
    } else if months <= 120 {
        Unit::Month
    } else {
        Unit::Year
    };
    let mut out = Vec::new();
    let mut at = Some(start_of(unit, min));
    while let Some(d) = at.filter(|d| *d <= max) {
        out.push(Bucket {
            start: d,
            in_head: 0,
            removed: 0,
        });
        at = next(unit, d);
    }
    for &(d, head) in dates {
        let start = start_of(unit, d);
        if let Ok(i) = out.binary_search_by(|b| b.start.cmp(&start)) {
            if head {
                out[i].in_head += 1;
            } else {
                out[i].removed += 1;
            }
        }
    }
    (unit, out)
}

/// The introduction dates of the data's history findings.
pub fn dates(data: &Data) -> Vec<(Date, bool)> {
    data.findings
        .iter()
        .filter_map(|f| {
            let d: Date = f.introduced.as_deref()?.parse().ok()?;
            Some((d, f.head == "yes"))
        })
        .collect()
}

const W: usize = 960;
const H: usize = 200;
const LEFT: usize = 44;
const BOTTOM: usize = 24;
const TOP: usize = 10;

/// The timeline section.
pub fn write(data: &Data, out: &mut dyn Write) -> io::Result<()> {
    let dates = dates(data);
    writeln!(
        out,
        "<section class=\"timeline\" aria-labelledby=\"timeline-h\">\n<h2 id=\"timeline-h\">When secrets were introduced</h2>"
    )?;
    if dates.is_empty() {
        writeln!(
            out,
            "<p class=\"muted\">No finding has an introducing commit: nothing from git history to place in time.</p>\n</section>"
        )?;
        return Ok(());
    }
    let (unit, bars) = buckets(&dates);
    let head: usize = bars.iter().map(|b| b.in_head).sum();
    writeln!(
        out,
        "<p class=\"muted\">By the date of the commit that introduced each secret at its path, per {}: {} findings, <span class=\"key head\"></span> {} still in HEAD, <span class=\"key removed\"></span> {} only in history.</p>",
        match unit {
            Unit::Day => "day",
            Unit::Month => "month",
            Unit::Year => "year",
        },
        dates.len(),
        head,
        dates.len() - head
    )?;
    chart(unit, &bars, out)?;
    writeln!(out, "</section>")
}

fn chart(unit: Unit, bars: &[Bucket], out: &mut dyn Write) -> io::Result<()> {
    let max = bars.iter().map(Bucket::total).max().unwrap_or(1).max(1);
    let plot_h = H - TOP - BOTTOM;
    let step = (W - LEFT) as f64 / bars.len() as f64;
    let y = |n: usize| (TOP + plot_h) as f64 - n as f64 * plot_h as f64 / max as f64;
    writeln!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Secrets introduced per period\">"
    )?;
    for n in [max, max / 2] {
        if n > 0 {
            let yy = y(n);
            writeln!(out, "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{W}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/><text class=\"axis\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{n}</text>", LEFT - 6, yy + 4.0)?;
        }
    }
    let every = bars.len().div_ceil(12);
    for (i, b) in bars.iter().enumerate() {
        let w = (step * 0.8).clamp(1.0, 48.0);
        let x = LEFT as f64 + i as f64 * step + (step - w) / 2.0;
        let name = label(unit, b.start);
        write!(
            out,
            "<g><title>{name}: {} introduced, {} still in HEAD</title>",
            b.total(),
            b.in_head
        )?;
        let (top_removed, top_head) = (y(b.removed), y(b.total()));
        if b.removed > 0 {
            write!(out, "<rect class=\"removed\" x=\"{x:.1}\" y=\"{top_removed:.1}\" width=\"{w:.1}\" height=\"{:.1}\"/>", y(0) - top_removed)?;
        }
        if b.in_head > 0 {
            write!(out, "<rect class=\"head\" x=\"{x:.1}\" y=\"{top_head:.1}\" width=\"{w:.1}\" height=\"{:.1}\"/>", top_removed - top_head)?;
        }
        writeln!(out, "</g>")?;
        if i % every == 0 {
            writeln!(
                out,
                "<text class=\"axis\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{name}</text>",
                x + w / 2.0,
                H - 6
            )?;
        }
    }
    writeln!(
        out,
        "<line class=\"base\" x1=\"{LEFT}\" x2=\"{W}\" y1=\"{0:.1}\" y2=\"{0:.1}\"/>\n</svg>",
        y(0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn days_for_a_short_span_with_empty_days_kept() {
        let (unit, b) = buckets(&[(d("2024-05-01"), true), (d("2024-05-03"), false)]);
        assert_eq!(unit, Unit::Day);
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].in_head, b[0].removed), (1, 0));
        assert_eq!(b[1].total(), 0);
        assert_eq!((b[2].in_head, b[2].removed), (0, 1));
    }

    #[test]
    fn months_then_years_as_the_span_grows() {
        let dates = [
            (d("2020-01-31"), true),
            (d("2021-03-01"), true),
            (d("2021-03-20"), false),
        ];
        let (unit, b) = buckets(&dates);
        assert_eq!(unit, Unit::Month);
        assert_eq!(b.len(), 15);
        assert_eq!(label(unit, b[14].start), "2021-03");
        assert_eq!(b[14].total(), 2);
        let (unit, b) = buckets(&[(d("2005-06-01"), false), (d("2024-01-01"), true)]);
        assert_eq!(unit, Unit::Year);
        assert_eq!(b.len(), 20);
        assert_eq!(b.iter().map(Bucket::total).sum::<usize>(), 2);
    }

    #[test]
    fn no_dates_no_bars() {
        assert!(buckets(&[]).1.is_empty());
    }
}
