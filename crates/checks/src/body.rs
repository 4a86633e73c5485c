//! Reading answer bodies within one byte budget shared by every check in the process.
//!
//! A function has 128 MB, and a suite runs up to 64 checks at once, each reading up to 1 MiB: without a budget
//! 64 large answers alone would take half of it. Each body first reserves its room (its declared length, or the
//! most the engine reads when none is declared), reads into exactly that, and keeps the reservation until the
//! check has judged the answer. Reserving all at once, before reading, means no check ever holds part of the
//! budget while waiting for more, so checks queue for room but never deadlock. The wait is not the target's
//! fault: it counts neither towards the check's timeout nor its latency (see `run::fetch`).

use tokio::sync::{Semaphore, SemaphorePermit};

/// The most of a body the engine reads; expectations see this prefix.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The bytes of bodies all checks in the process may hold at once: 32 of the largest.
pub const BODY_BUDGET_BYTES: usize = 32 * MAX_BODY_BYTES;
/// The budget's grain: a body of a few bytes reserves this much.
const UNIT: usize = 64 * 1024;

static BUDGET: Semaphore = Semaphore::const_new(BODY_BUDGET_BYTES / UNIT);

/// Room for one body in the budget; returned when dropped.
pub(crate) struct Room {
    permit: SemaphorePermit<'static>,
    bytes: usize,
}

impl Room {
    /// Waits until the budget has room for a body of `declared` bytes (its `content-length`), or of
    /// [`MAX_BODY_BYTES`] when it declares none. `None` only if the budget were closed, which it never is.
    pub(crate) async fn reserve(declared: Option<u64>) -> Option<Room> {
        let bytes = declared.map_or(MAX_BODY_BYTES, |n| {
            usize::try_from(n).unwrap_or(usize::MAX).min(MAX_BODY_BYTES)
        });
        let units = u32::try_from(units(bytes)).ok()?;
        let permit = BUDGET.acquire_many(units).await.ok()?;
        Some(Room { permit, bytes })
    }

    /// The most this room holds.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Gives back what a body of `used` bytes does not need (a body shorter than the room).
    pub(crate) fn shrink_to(&mut self, used: usize) {
        let keep = units(used);
        if let Some(extra) = self.permit.num_permits().checked_sub(keep).filter(|n| *n > 0) {
            drop(self.permit.split(extra));
        }
        self.bytes = self.bytes.min(keep * UNIT);
    }
}

fn units(bytes: usize) -> usize {
    bytes.div_ceil(UNIT).max(1)
}

/// Appends `chunk` to `body` up to `limit` bytes; `true` once the limit is reached (the rest is not read).
pub(crate) fn append(body: &mut Vec<u8>, chunk: &[u8], limit: usize) -> bool {
    let room = limit.saturating_sub(body.len());
    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    body.len() >= limit
}

/// The body as text without a copy; only invalid UTF-8 (replaced) makes one.
pub(crate) fn into_text(body: Vec<u8>) -> String {
    String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rooms_reserve_whole_units_and_give_back_what_a_short_body_leaves() {
        let free = || BUDGET.available_permits();
        let start = free();
        let mut unknown = Room::reserve(None).await.unwrap();
        assert_eq!(unknown.bytes(), MAX_BODY_BYTES);
        assert_eq!(start - free(), MAX_BODY_BYTES / UNIT);
        unknown.shrink_to(UNIT + 1);
        assert_eq!(start - free(), 2, "two units hold 64 KiB + 1 byte");
        let small = Room::reserve(Some(10)).await.unwrap();
        assert_eq!((small.bytes(), start - free()), (10, 3));
        let huge = Room::reserve(Some(u64::MAX)).await.unwrap();
        assert_eq!(huge.bytes(), MAX_BODY_BYTES);
        drop((unknown, small, huge));
        assert_eq!(free(), start);
    }

    #[test]
    fn bodies_stop_at_the_limit_and_become_text() {
        let mut body = Vec::new();
        assert!(!append(&mut body, b"abc", 5));
        assert!(append(&mut body, b"defg", 5));
        assert_eq!(into_text(body), "abcde");
        assert_eq!(into_text(vec![b'o', 0xff, b'k']), "o\u{fffd}k");
    }
}
