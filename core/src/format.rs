//! Numbers as people read them in alert messages and rules.

/// A number as people write it: at most three decimals, no trailing zeros, a real minus sign.
pub fn number(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    let text = format!("{}", if rounded == 0.0 { 0.0 } else { rounded });
    text.replace('-', "−")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_trailing_zeros_and_take_a_real_minus() {
        assert_eq!(number(-12.0), "−12");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(-0.0001), "0");
    }
}
