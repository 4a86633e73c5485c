//! iCalendar content lines and components (RFC 5545 §3.1, §3.4, §3.6), read without recursion.
//!
//! A feed is input from elsewhere, so the reader is strict where leniency could hide a BlackDay and never panics:
//! - lines are unfolded (a line starting with a space or tab continues the one before; CRLF or bare LF);
//! - names of components, properties and parameters are case-insensitive (`BEGIN:vevent` is `BEGIN:VEVENT`); they
//!   are kept upper-cased;
//! - every `BEGIN` needs its `END`, in order, and components nest at most [`MAX_DEPTH`] deep (a calendar, an event,
//!   an alarm is three): a feed of thousands of nested components is refused rather than read recursively;
//! - anything after the calendar's `END:VCALENDAR` other than blank lines is refused (a second calendar would be
//!   ignored otherwise).
//!
//! Errors name the physical line (1-based) where the content line starts.

use std::borrow::Cow;

/// How deep components may nest: VCALENDAR > VEVENT > VALARM, VCALENDAR > VTIMEZONE > STANDARD, with room to spare.
pub(crate) const MAX_DEPTH: usize = 8;

/// One unfolded content line: `NAME;PARAM=VALUE:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Property<'a> {
    /// The physical line it starts on (1-based).
    pub line: usize,
    /// Upper-cased.
    pub name: String,
    /// Parameter names upper-cased; values as written, without the quotes of a quoted value.
    pub params: Vec<(String, Cow<'a, str>)>,
    pub value: Cow<'a, str>,
}

impl Property<'_> {
    /// The value of a parameter (the first, if given twice).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_ref())
    }

    /// The value as TEXT (RFC 5545 §3.3.11): `\n`, `\,`, `\;` and `\\` unescaped.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(self.value.len());
        let mut chars = self.value.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        }
        out
    }
}

/// A component (`BEGIN:X` … `END:X`) with its properties and sub-components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Component<'a> {
    /// The line of its `BEGIN`.
    pub line: usize,
    /// Upper-cased.
    pub name: String,
    pub properties: Vec<Property<'a>>,
    pub components: Vec<Component<'a>>,
}

impl<'a> Component<'a> {
    /// The first property with this (upper-case) name.
    pub fn property(&self, name: &str) -> Option<&Property<'a>> {
        self.properties.iter().find(|p| p.name == name)
    }

    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Property<'a>> + 's {
        self.properties.iter().filter(move |p| p.name == name)
    }
}

/// Why a feed could not be read as iCalendar: the line, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub line: usize,
    pub problem: String,
}

fn malformed(line: usize, problem: impl Into<String>) -> Malformed {
    Malformed {
        line,
        problem: problem.into(),
    }
}

/// Reads the feed's one top-level component (its name is checked by the caller).
pub(crate) fn read(text: &str) -> Result<Component<'_>, Malformed> {
    let mut stack: Vec<Component> = Vec::new();
    let mut done: Option<Component> = None;
    for (line, logical) in unfold(text) {
        if logical.trim().is_empty() {
            continue;
        }
        if done.is_some() {
            return Err(malformed(line, "there is text after END:VCALENDAR"));
        }
        let property = parse_line(line, logical)?;
        match property.name.as_str() {
            "BEGIN" => {
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed(line, format!("components nest more than {MAX_DEPTH} deep")));
                }
                let name = component_name(&property)?;
                stack.push(Component {
                    line,
                    name,
                    properties: Vec::new(),
                    components: Vec::new(),
                });
            }
            "END" => {
                let name = component_name(&property)?;
                let Some(open) = stack.pop() else {
                    return Err(malformed(line, format!("END:{name} without a BEGIN")));
                };
                if open.name != name {
                    return Err(malformed(
                        line,
                        format!("END:{name} closes BEGIN:{} of line {}", open.name, open.line),
                    ));
                }
                match stack.last_mut() {
                    Some(parent) => parent.components.push(open),
                    None => done = Some(open),
                }
            }
            _ => match stack.last_mut() {
                Some(open) => open.properties.push(property),
                None => return Err(malformed(line, "a property outside BEGIN:VCALENDAR … END:VCALENDAR")),
            },
        }
    }
    match (done, stack.last()) {
        (Some(calendar), _) => Ok(calendar),
        (None, Some(open)) => Err(malformed(
            open.line,
            format!("BEGIN:{} has no END:{}", open.name, open.name),
        )),
        (None, None) => Err(malformed(1, "the text is empty")),
    }
}

fn component_name(property: &Property) -> Result<String, Malformed> {
    let name = property.value.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(malformed(
            property.line,
            format!("\"{}:{}\" does not name a component", property.name, property.value),
        ));
    }
    Ok(name.to_ascii_uppercase())
}

/// Logical lines with the physical line each starts on; folded lines are joined (RFC 5545 §3.1).
fn unfold(text: &str) -> impl Iterator<Item = (usize, Cow<'_, str>)> {
    let mut physical = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .enumerate()
        .peekable();
    std::iter::from_fn(move || {
        let (index, first) = physical.next()?;
        let mut joined: Cow<str> = Cow::Borrowed(first);
        while let Some((_, next)) = physical.peek() {
            let Some(rest) = next.strip_prefix([' ', '\t']) else {
                break;
            };
            joined.to_mut().push_str(rest);
            physical.next();
        }
        Some((index + 1, joined))
    })
}

/// `NAME *(";" PARAM "=" VALUE *("," VALUE)) ":" value`; parameter values may be quoted.
fn parse_line(line: usize, logical: Cow<'_, str>) -> Result<Property<'_>, Malformed> {
    let bad = |what: &str| malformed(line, format!("{what} in \"{}\"", shorten(&logical)));
    let text: &str = &logical;
    let name_end = text
        .find([';', ':'])
        .ok_or_else(|| bad("no ':' between name and value"))?;
    let name = &text[..name_end];
    if !is_name(name) {
        return Err(bad("not a property name"));
    }
    let mut params = Vec::new();
    let mut rest = &text[name_end..];
    while let Some(after) = rest.strip_prefix(';') {
        let eq = after.find('=').ok_or_else(|| bad("a parameter without '='"))?;
        let key = &after[..eq];
        if !is_name(key) {
            return Err(bad("not a parameter name"));
        }
        let mut values = &after[eq + 1..];
        let mut value = String::new();
        loop {
            let (one, remaining) = if let Some(quoted) = values.strip_prefix('"') {
                let close = quoted.find('"').ok_or_else(|| bad("an unclosed quote"))?;
                (&quoted[..close], &quoted[close + 1..])
            } else {
                let end = values
                    .find([',', ';', ':'])
                    .ok_or_else(|| bad("no ':' before the value"))?;
                (&values[..end], &values[end..])
            };
            value.push_str(one);
            match remaining.strip_prefix(',') {
                Some(more) => {
                    value.push(',');
                    values = more;
                }
                None => {
                    values = remaining;
                    break;
                }
            }
        }
        params.push((key.to_ascii_uppercase(), Cow::Owned(value)));
        rest = values;
    }
    let value_start = text.len() - rest.len();
    if !rest.starts_with(':') {
        return Err(bad("no ':' before the value"));
    }
    let name = name.to_ascii_uppercase();
    let value = match logical {
        Cow::Borrowed(all) => Cow::Borrowed(&all[value_start + 1..]),
        Cow::Owned(all) => Cow::Owned(all[value_start + 1..].to_owned()),
    };
    Ok(Property {
        line,
        name,
        params,
        value,
    })
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_folded_lines_parameters_and_nested_components_case_insensitively() {
        let text = "begin:vcalendar\r\nBegin:VEvent\r\nsummary;Language=en:Launch\\, day\r\n  two\r\n\
                    DTSTART;TZID=\"Europe/Berlin\";X-A=b,\"c:d\":20260101T090000\r\nBEGIN:VALARM\nEND:valarm\n\
                    END:VEVENT\r\nEnd:VCalendar\r\n\r\n";
        let calendar = read(text).unwrap();
        assert_eq!(calendar.name, "VCALENDAR");
        let event = &calendar.components[0];
        assert_eq!((event.name.as_str(), event.line), ("VEVENT", 2));
        assert_eq!(event.components[0].name, "VALARM");
        let summary = event.property("SUMMARY").unwrap();
        assert_eq!(summary.text(), "Launch, day two");
        assert_eq!(summary.param("LANGUAGE"), Some("en"));
        let start = event.property("DTSTART").unwrap();
        assert_eq!((start.line, start.value.as_ref()), (5, "20260101T090000"));
        assert_eq!(start.param("TZID"), Some("Europe/Berlin"));
        assert_eq!(start.param("X-A"), Some("b,c:d"));
    }

    #[test]
    fn refuses_what_it_cannot_read_naming_the_line() {
        let deep = format!(
            "BEGIN:VCALENDAR\n{}{}END:VCALENDAR\n",
            "BEGIN:X\n".repeat(10_000),
            "END:X\n".repeat(10_000)
        );
        let cases = [
            (
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n",
                3,
                "closes BEGIN:VEVENT of line 2",
            ),
            ("BEGIN:VCALENDAR\nBEGIN:VEVENT\n", 2, "BEGIN:VEVENT has no END"),
            (
                "BEGIN:VCALENDAR\nEND:VCALENDAR\nBEGIN:VCALENDAR\n",
                3,
                "after END:VCALENDAR",
            ),
            ("BEGIN:VCALENDAR\nSUMMARY no colon\nEND:VCALENDAR\n", 2, "no ':'"),
            (
                "BEGIN:VCALENDAR\nDTSTART;TZID=\"Berlin:x\nEND:VCALENDAR\n",
                2,
                "unclosed quote",
            ),
            ("SUMMARY:x\n", 1, "outside BEGIN:VCALENDAR"),
            ("BEGIN:\n", 1, "does not name a component"),
            ("", 1, "empty"),
            (deep.as_str(), 9, "nest more than 8 deep"),
        ];
        for (text, line, problem) in cases {
            let error = read(text).unwrap_err();
            assert_eq!(error.line, line, "{error:?}");
            assert!(error.problem.contains(problem), "{error:?}");
        }
    }
}
