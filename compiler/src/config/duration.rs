//! Go's `time.Duration` / `metav1.Duration` as kubeadm reads and writes it.
//!
//! Parsing follows Go's `time.ParseDuration` (units ns, us, µs, ms, s, m, h; decimal fractions;
//! an optional sign); formatting follows `Duration.String()` (`4m0s`, `24h0m0s`, `1.5s`, `0s`),
//! so a defaulted value prints exactly as `kubeadm config print` prints it.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A signed duration in nanoseconds, as Go stores it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

impl Duration {
    pub const fn from_secs(s: i64) -> Self {
        Duration(s * 1_000_000_000)
    }
    pub const fn from_mins(m: i64) -> Self {
        Duration::from_secs(m * 60)
    }
    pub const fn from_hours(h: i64) -> Self {
        Duration::from_secs(h * 3600)
    }
    /// Whole seconds, for the plan's `*Seconds` fields (a negative duration counts as 0).
    pub const fn whole_seconds(self) -> u64 {
        let s = self.nanos() / 1_000_000_000;
        if s < 0 {
            0
        } else {
            s as u64
        }
    }

    pub const fn nanos(self) -> i64 {
        self.0
    }
    pub const fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// Parses a Go duration string such as `1h30m`, `8760h0m0s` or `-1.5s`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let orig = s;
        let err = || format!("time: invalid duration {orig:?}");
        let (neg, mut rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if rest == "0" {
            return Ok(Duration(0));
        }
        if rest.is_empty() {
            return Err(err());
        }
        let mut total: i128 = 0;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let int_part = &rest[..int_len];
            rest = &rest[int_len..];
            let mut frac_part = "";
            if let Some(r) = rest.strip_prefix('.') {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                frac_part = &r[..n];
                rest = &r[n..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(err());
            }
            let unit_len = rest
                .char_indices()
                .find(|(_, c)| c.is_ascii_digit() || *c == '.')
                .map_or(rest.len(), |(i, _)| i);
            let unit: i128 = match &rest[..unit_len] {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "" => return Err(format!("time: missing unit in duration {orig:?}")),
                u => return Err(format!("time: unknown unit {u:?} in duration {orig:?}")),
            };
            rest = &rest[unit_len..];
            let int: i128 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| err())?
            };
            let mut v = int * unit;
            if !frac_part.is_empty() {
                let digits = frac_part.len().min(18) as u32;
                let frac: i128 = frac_part[..digits as usize].parse().map_err(|_| err())?;
                v += frac * unit / 10i128.pow(digits);
            }
            total += v;
            if total > i64::MAX as i128 {
                return Err(err());
            }
        }
        Ok(Duration(if neg { -(total as i64) } else { total as i64 }))
    }
}

impl fmt::Display for Duration {
    /// Go's `Duration.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let u = self.0.unsigned_abs();
        let sign = if neg { "-" } else { "" };
        if u == 0 {
            return f.write_str("0s");
        }
        if u < 1_000_000_000 {
            // Sub-second values use the smallest unit that keeps an integer part.
            let (div, unit) = if u < 1_000 {
                (1, "ns")
            } else if u < 1_000_000 {
                (1_000, "µs")
            } else {
                (1_000_000, "ms")
            };
            return write!(f, "{sign}{}{unit}", frac(u, div));
        }
        let hours = u / 3_600_000_000_000;
        let mins = (u / 60_000_000_000) % 60;
        let secs = u % 60_000_000_000;
        let mut out = String::new();
        if hours > 0 {
            out.push_str(&format!("{hours}h"));
        }
        if hours > 0 || mins > 0 {
            out.push_str(&format!("{mins}m"));
        }
        out.push_str(&frac(secs, 1_000_000_000));
        out.push('s');
        write!(f, "{sign}{out}")
    }
}

/// `v / div` with Go's trailing-zero-free decimal fraction.
fn frac(v: u64, div: u64) -> String {
    let int = v / div;
    let rem = v % div;
    if rem == 0 {
        return int.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{rem:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as 24h0m0s or 90s")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::Duration;
    use test_case::test_case;

    #[test_case("4m0s", 240_000_000_000; "minutes")]
    #[test_case("24h", 86_400_000_000_000; "hours")]
    #[test_case("1h30m", 5_400_000_000_000; "mixed")]
    #[test_case("1.5s", 1_500_000_000; "fraction")]
    #[test_case("0", 0; "bare zero")]
    #[test_case("-2m", -120_000_000_000; "negative")]
    #[test_case("300ms", 300_000_000; "millis")]
    fn parses_go_durations(s: &str, nanos: i64) {
        assert_eq!(Duration::parse(s), Ok(Duration(nanos)));
    }

    #[test_case(240_000_000_000, "4m0s")]
    #[test_case(86_400_000_000_000, "24h0m0s")]
    #[test_case(31_536_000_000_000_000, "8760h0m0s")]
    #[test_case(1_500_000_000, "1.5s")]
    #[test_case(300_000_000, "300ms")]
    #[test_case(0, "0s")]
    #[test_case(-120_000_000_000, "-2m0s")]
    fn formats_like_go(nanos: i64, s: &str) {
        assert_eq!(Duration(nanos).to_string(), s);
    }

    #[test_case("5"; "missing unit")]
    #[test_case("5d"; "unknown unit")]
    #[test_case(""; "empty")]
    #[test_case("h"; "no number")]
    fn rejects_bad_durations(s: &str) {
        assert!(Duration::parse(s).is_err());
    }
}
