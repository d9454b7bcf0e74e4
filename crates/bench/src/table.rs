//! Markdown tables, padded so they also read well in a terminal.

use std::fmt::Write as _;

/// How a column's cells are aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A markdown table.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    pub(crate) fn new(columns: &[(&str, Align)]) -> Self {
        Self {
            columns: columns
                .iter()
                .map(|(name, align)| ((*name).to_owned(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are left empty, extra cells are dropped.
    pub(crate) fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// The table as markdown, one line per row, ending with a newline. `|` in cells is escaped,
    /// and newlines and other control characters become spaces, so a multi-line cell (an
    /// error's output) stays on its row.
    pub(crate) fn render(&self) -> String {
        let escape = |cell: &str| cell.replace(char::is_control, " ").replace('|', "\\|");
        let header: Vec<String> = self.columns.iter().map(|(n, _)| escape(n)).collect();
        let body: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|c| escape(c)).collect())
            .collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                body.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.columns)
                .map(|((cell, width), (_, align))| {
                    let pad = " ".repeat(width - cell.chars().count());
                    match align {
                        Align::Left => format!("{cell}{pad}"),
                        Align::Right => format!("{pad}{cell}"),
                    }
                })
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let mut out = line(&header);
        let rule: Vec<String> = widths
            .iter()
            .zip(&self.columns)
            .map(|(width, (_, align))| match align {
                Align::Left => "-".repeat(*width),
                Align::Right => format!("{}:", "-".repeat(width - 1)),
            })
            .collect();
        let _ = writeln!(out, "| {} |", rule.join(" | "));
        for row in &body {
            out.push_str(&line(row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_padded_markdown() {
        let mut t = Table::new(&[("provider", Align::Left), ("req/s", Align::Right)]);
        t.row(["verifykit", "12,345/s"]);
        t.row(["a|b", "7 µs"]);
        assert_eq!(
            t.render(),
            "| provider  |    req/s |\n\
             | --------- | -------: |\n\
             | verifykit | 12,345/s |\n\
             | a\\|b      |     7 µs |\n"
        );
    }

    #[test]
    fn a_multi_line_cell_stays_on_its_row() {
        let mut t = Table::new(&[("crate", Align::Left), ("why", Align::Left)]);
        t.row(["x", "build failed:\nerror[E0425]\r\n\tat a|b"]);
        assert_eq!(
            t.render(),
            "| crate | why                                  |\n\
             | ----- | ------------------------------------ |\n\
             | x     | build failed: error[E0425]   at a\\|b |\n"
        );
    }

    #[test]
    fn short_rows_are_padded_and_long_ones_cut() {
        let mut t = Table::new(&[("a", Align::Left), ("b", Align::Left)]);
        t.row(["x"]);
        t.row(["1", "2", "3"]);
        assert_eq!(
            t.render(),
            "| a   | b   |\n| --- | --- |\n| x   |     |\n| 1   | 2   |\n"
        );
    }
}
