//! Gregorian calendar arithmetic on plain numbers, for years beyond chrono's dates (the recurrence engine runs to
//! year ±10 000 and a zone's rule over a whole 400-year cycle).

/// Whether `year` (proleptic Gregorian) has a 29 February.
pub(crate) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// 365 or 366.
pub(crate) fn year_length(year: i64) -> u32 {
    if is_leap(year) { 366 } else { 365 }
}

/// The days of `month` (1–12) in `year`.
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn agrees_with_chrono() {
        for year in -400..=2400 {
            let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            assert_eq!(is_leap(i64::from(year)), first.leap_year(), "{year}");
            assert_eq!(
                year_length(i64::from(year)),
                NaiveDate::from_ymd_opt(year, 12, 31).unwrap().ordinal()
            );
            for month in 1..=12 {
                let next = if month == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(year, month + 1, 1)
                };
                let last = next.unwrap().pred_opt().unwrap();
                assert_eq!(days_in_month(i64::from(year), month), last.day(), "{year}-{month}");
            }
        }
    }
}
