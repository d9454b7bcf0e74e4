//! VerifyKit's date format.

use time::OffsetDateTime;
use time::macros::format_description;

/// `Y-m-d H:i:s` in UTC, VerifyKit's date format.
pub(super) fn vk_date(t: OffsetDateTime) -> String {
    t.checked_to_offset(time::UtcOffset::UTC)
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_use_the_php_format() {
        let t = OffsetDateTime::from_unix_timestamp(1_573_112_128).unwrap();
        assert_eq!(vk_date(t), "2019-11-07 07:35:28");
    }
}
